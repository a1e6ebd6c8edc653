// Resolves the OpenSearch server from Maven Central and unpacks it into a cache folder. The
// integ-test-zip distribution is the whole server (lib/, the transport-netty4 module, config/)
// without a bundled JDK; it runs on the machine's Java 17. The store needs no other module: it
// maps Double to `double` (not mapper-extras' scaled_float) and needs no painless or analysis-common.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned: the newest 2.19.x on Maven Central when this was written (Temporal's supported 2.x line). */
export const OPENSEARCH_VERSION = '2.19.6';

/**
 * Where the server and its instances live. As root the JVM must run as a service user (OpenSearch
 * refuses root), and that user cannot enter root's 0700 home, so the files go where a system
 * package would put them.
 */
export function opensearchRoot(): string {
  if (process.getuid?.() === 0) return '/var/lib/tandem/opensearch';
  return join(process.env.TANDEM_CACHE || join(homedir(), '.cache', 'tandem'), 'opensearch');
}

export function homeDir(version = OPENSEARCH_VERSION): string {
  return join(opensearchRoot(), `opensearch-${version}`);
}

const isFetched = (home: string) => existsSync(join(home, 'lib')) && existsSync(join(home, 'modules', 'transport-netty4'));

function pom(version: string, outputDirectory: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tandem.local</groupId>
  <artifactId>opensearch-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.6.1</version>
        <configuration>
          <artifactItems>
            <artifactItem>
              <groupId>org.opensearch.distribution.integ-test-zip</groupId>
              <artifactId>opensearch</artifactId>
              <version>${version}</version>
              <type>zip</type>
            </artifactItem>
          </artifactItems>
          <outputDirectory>${outputDirectory}</outputDirectory>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

/**
 * Ensures the server of `version` is unpacked in the cache and returns its home. It is unpacked
 * into a temporary folder renamed at the end, so an interrupted fetch never looks complete.
 */
export async function fetchOpenSearch(version = OPENSEARCH_VERSION, log: (msg: string) => void = () => {}): Promise<string> {
  const home = homeDir(version);
  if (isFetched(home)) return home;
  const work = join(opensearchRoot(), `fetch-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o755 });
  const out = join(work, 'out');
  writeFileSync(join(work, 'pom.xml'), pom(version, out));
  log(`fetching org.opensearch.distribution.integ-test-zip:opensearch:${version}:zip with Maven into ${home}`);
  try {
    await run('mvn', ['-q', '-B', 'dependency:unpack'], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    rmSync(work, { recursive: true, force: true });
    throw new Error(`mvn failed to fetch opensearch ${version}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  const unpacked = join(out, `opensearch-${version}`);
  if (!isFetched(unpacked)) throw new Error(`mvn finished but ${unpacked} holds no OpenSearch server`);
  // Another fetch may have won the race; its copy is as good as ours.
  if (!isFetched(home)) {
    rmSync(home, { recursive: true, force: true });
    renameSync(unpacked, home);
  }
  rmSync(work, { recursive: true, force: true });
  log(`fetched opensearch ${version} into ${home}`);
  return home;
}
