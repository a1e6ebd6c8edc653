// Resolves the Cassandra server jars from Maven Central into a cache folder. Cassandra ships
// no Debian or npm package we can use, but `cassandra-all` on Maven is the whole server.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned: the newest 5.0.x on Maven Central when this was written (5.0 is the first with JDK 17). */
export const CASSANDRA_VERSION = '5.0.9';

/** `$TANDEM_CACHE`, else `~/.cache/tandem`. */
export function cacheRoot(): string {
  return process.env.TANDEM_CACHE || join(homedir(), '.cache', 'tandem');
}

export function libDir(version = CASSANDRA_VERSION): string {
  return join(cacheRoot(), `cassandra-${version}`, 'lib');
}

function isFetched(dir: string, version: string): boolean {
  return existsSync(join(dir, `cassandra-all-${version}.jar`));
}

function pom(version: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tandem.local</groupId>
  <artifactId>cassandra-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>${version}</version>
    </dependency>
  </dependencies>
</project>
`;
}

/**
 * Ensures the jars of `version` are in the cache and returns the lib folder. The copy goes to a
 * temporary folder that is renamed at the end, so an interrupted fetch never looks complete.
 */
export async function fetchCassandra(version = CASSANDRA_VERSION, log: (msg: string) => void = () => {}): Promise<string> {
  const dir = libDir(version);
  if (isFetched(dir, version)) return dir;
  const work = join(cacheRoot(), `cassandra-${version}`, `fetch-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'pom.xml'), pom(version));
  log(`fetching org.apache.cassandra:cassandra-all:${version} with Maven into ${dir}`);
  try {
    await run(
      'mvn',
      ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${join(work, 'lib')}`],
      { cwd: work, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    rmSync(work, { recursive: true, force: true });
    throw new Error(`mvn failed to fetch cassandra-all ${version}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  if (!isFetched(join(work, 'lib'), version)) {
    throw new Error(`mvn finished but cassandra-all-${version}.jar is missing in ${join(work, 'lib')}`);
  }
  // Another fetch may have won the race; its copy is as good as ours.
  if (!isFetched(dir, version)) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'lib'), dir);
  }
  rmSync(work, { recursive: true, force: true });
  log(`fetched ${readdirSync(dir).length} jars`);
  return dir;
}
