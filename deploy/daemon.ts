// What the launchers of local servers (Cassandra, Redis) share: liveness of a detached process,
// a lock file that serializes starts of one instance across processes, waiting until the
// server answers, and a graceful-then-forced stop.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../services/common/lifecycle.js';

/** Alive and not a zombie (exited, not yet reaped by its parent): a zombie holds no ports. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The pid in a pid file when that process is alive and its command line contains `marker`. */
export function livePidFromFile(pidFile: string, marker: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  if (!existsSync('/proc')) return pid;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker) ? pid : null;
  } catch {
    return null;
  }
}

/** The last bytes of a log file, for error messages. */
export function logTail(file: string, bytes = 4000): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Runs fn holding an exclusive lock file; a lock left by a dead process is taken over. */
export async function withLockFile<T>(lockFile: string, what: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockFile, 'utf8').trim() || '0');
      if (holder > 0 && !alive(holder)) rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new Error(`${what}: process ${holder} has held ${lockFile} for too long`);
      else await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** Polls `answers` until it is true; fails early (with the log's tail) if the process died. */
export async function waitUntilAnswering(opts: {
  what: string;
  pid: number;
  logFile: string;
  timeoutMs: number;
  intervalMs: number;
  answers: () => Promise<boolean>;
}): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (!alive(opts.pid)) throw new Error(`${opts.what} (pid ${opts.pid}) exited during start-up; log tail:\n${logTail(opts.logFile)}`);
    if (await opts.answers()) return;
    if (Date.now() > deadline) throw new Error(`${opts.what} did not answer within ${opts.timeoutMs} ms; log tail:\n${logTail(opts.logFile)}`);
    await sleep(opts.intervalMs);
  }
}

/**
 * Starts a server detached from this process (it outlives it), output appended to logFile after
 * a banner line, its pid written to pidFile at once. Resolves with the pid once it spawned.
 */
export async function spawnDaemon(opts: { command: string; args: string[]; logFile: string; pidFile: string; banner: string }): Promise<number> {
  const out = openSync(opts.logFile, 'a');
  writeFileSync(out, `\n==== ${new Date().toISOString()} ${opts.banner}\n`);
  const child = spawn(opts.command, opts.args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (err) => reject(new Error(`cannot run ${opts.command}: ${err.message}`)));
  });
  child.unref();
  writeFileSync(opts.pidFile, String(pid));
  return pid;
}

/** Stops the process if it runs (false when it did not); a stale pid file is removed either way. */
export async function stopIfRunning(pid: number | null, pidFile: string, graceMs: number): Promise<boolean> {
  if (pid === null) {
    rmSync(pidFile, { force: true });
    return false;
  }
  await stopPid(pid, pidFile, graceMs);
  return true;
}

/** SIGTERM, SIGKILL after the grace period; resolves once the process is gone and its pid file removed. */
export async function stopPid(pid: number, pidFile: string, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // Exited between the check and the signal.
    }
  };
  signal('SIGTERM');
  const killAt = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > killAt) signal('SIGKILL');
    await sleep(100);
  }
  rmSync(pidFile, { force: true });
}

/** Runs a CLI's main: its number is the exit code; an error prints its message and exits 1. */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
