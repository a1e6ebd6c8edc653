// What a running `tandem up` leaves on disk so that another shell (`tandem chaos`) can find its
// processes: one JSON file per process (id, kind, region, pid), rewritten at every spawn, and per
// region the record of the launcher that runs it (pid, control address): `tandem up --region a`
// and `--region b` may run side by side. The folder is keyed by the topology file's path:
// `<cache>/runs/<file name>-<hash>/`. A record outlives a crashed launcher; a pid is believed only
// while that process is alive and its command line names the record's id (pids get reused).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot } from '../cassandra/fetch.js';
import { alive } from '../daemon.js';

export interface ProcessRecord {
  id: string;
  kind: string;
  /** `global` for the router, the links and the controller. */
  region: string;
  pid: number;
  startedAtMs: number;
}

export interface LauncherRecord {
  pid: number;
  /** host:port of the launcher's control endpoint (deploy/chaos/launcher-control.ts). */
  control: string;
  topologyFile: string;
}

export class RunState {
  readonly dir: string;

  constructor(topologyFile: string) {
    const file = path.resolve(topologyFile);
    const hash = createHash('sha1').update(file).digest('hex').slice(0, 10);
    this.dir = path.join(cacheRoot(), 'runs', `${path.basename(file, '.json').replace(/[^A-Za-z0-9_-]/g, '_')}-${hash}`);
  }

  private file(id: string): string {
    return path.join(this.dir, `process-${id}.json`);
  }

  writeProcess(rec: ProcessRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.file(rec.id), JSON.stringify(rec));
  }

  removeProcess(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  /** The process's record when it is running now. */
  liveProcess(id: string): ProcessRecord | null {
    const f = this.file(id);
    if (!existsSync(f)) return null;
    const rec = JSON.parse(readFileSync(f, 'utf8')) as ProcessRecord;
    return isLive(rec.pid, rec.id) ? rec : null;
  }

  /** Every process with a record, running or not. */
  processIds(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.startsWith('process-') && f.endsWith('.json'))
      .map((f) => f.slice('process-'.length, -'.json'.length));
  }

  private launcherFile(region: string): string {
    return path.join(this.dir, `launcher-${region}.json`);
  }

  writeLauncher(rec: LauncherRecord, regions: string[]): void {
    mkdirSync(this.dir, { recursive: true });
    for (const r of regions) writeFileSync(this.launcherFile(r), JSON.stringify(rec));
  }

  removeLauncher(regions: string[]): void {
    for (const r of regions) rmSync(this.launcherFile(r), { force: true });
  }

  /** The record of the launcher running the region, while it runs. */
  liveLauncher(region: string): LauncherRecord | null {
    const f = this.launcherFile(region);
    if (!existsSync(f)) return null;
    const rec = JSON.parse(readFileSync(f, 'utf8')) as LauncherRecord;
    return alive(rec.pid) ? rec : null;
  }
}

/** Alive, and (where /proc tells) its command line holds `marker`. */
function isLive(pid: number, marker: string): boolean {
  if (!alive(pid)) return false;
  if (!existsSync('/proc')) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker);
  } catch {
    return false;
  }
}
