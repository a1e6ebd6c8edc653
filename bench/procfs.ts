// What Linux's /proc says of a process and of the machine: the CPU time a process has used (the
// kernel's count of its user+system ticks, so the process need not serve metrics or cooperate),
// its resident memory, the machine's busy CPU time, and which process listens on a TCP port (how
// the bench finds the Cassandra or Redis JVM/daemon it did not start itself). Linux only: on other
// systems the readers return null and the bench reports no CPU figures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface ProcessStat {
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  rssPages: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold spaces
 * and parentheses, so fields are counted from the last ')'.
 */
export function parseProcessStat(text: string): ProcessStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // After the name: field 3 (state) is index 0, so field n is index n - 3.
  const f = text.slice(close + 1).trim().split(/\s+/);
  const field = (n: number) => {
    const v = Number(f[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${n} is ${JSON.stringify(f[n - 3])}`);
    return v;
  };
  return { cpuTicks: field(14) + field(15), rssPages: field(24) };
}

export interface MachineStat {
  /** Ticks of all CPUs spent on anything but idle and iowait. */
  busyTicks: number;
  totalTicks: number;
}

/** Parses the aggregate `cpu` line of /proc/stat (user nice system idle iowait irq softirq steal). */
export function parseMachineStat(text: string): MachineStat {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const totalTicks = f.reduce((a, b) => a + b, 0);
  return { busyTicks: totalTicks - f[3]! - f[4]!, totalTicks };
}

/** Socket inodes in LISTEN state on `port` in a /proc/net/tcp or /proc/net/tcp6 table. */
export function listeningInodes(table: string, port: number): string[] {
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const localPort = parseInt(f[1]!.split(':').at(-1)!, 16);
    if (f[3] === '0A' && localPort === port) out.push(f[9]!);
  }
  return out;
}

let sysconf: { clockTicks: number; pageBytes: number } | undefined;

/** USER_HZ and the page size; Node has no sysconf, so ask getconf once (Linux's usual values otherwise). */
function sysconfValues(): { clockTicks: number; pageBytes: number } {
  const get = (name: string, fallback: number) => {
    try {
      const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
      return v > 0 ? v : fallback;
    } catch {
      return fallback;
    }
  };
  sysconf ??= { clockTicks: get('CLK_TCK', 100), pageBytes: get('PAGESIZE', 4096) };
  return sysconf;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export interface ProcessUsage {
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU seconds and resident bytes of a live process; null when it is gone (or there is no /proc). */
export function processUsage(pid: number): ProcessUsage | null {
  const text = readOrNull(`/proc/${pid}/stat`);
  if (text === null) return null;
  const s = parseProcessStat(text);
  const { clockTicks, pageBytes } = sysconfValues();
  return { cpuSeconds: s.cpuTicks / clockTicks, rssBytes: s.rssPages * pageBytes };
}

/** Busy CPU seconds of the whole machine since boot, all CPUs together; null without /proc. */
export function machineCpuSeconds(): number | null {
  const text = readOrNull('/proc/stat');
  return text === null ? null : parseMachineStat(text).busyTicks / sysconfValues().clockTicks;
}

/** The process listening on this TCP port on this machine, or null (none, remote, or not ours to see). */
export function pidListeningOn(port: number): number | null {
  const inodes = new Set(['/proc/net/tcp', '/proc/net/tcp6'].flatMap((t) => listeningInodes(readOrNull(t) ?? '', port)));
  if (inodes.size === 0) return null;
  const targets = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const entry of readdirOrEmpty('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of readdirOrEmpty(`/proc/${entry}/fd`)) {
      try {
        if (targets.has(fs.readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // The fd closed or the process exited while we looked.
      }
    }
  }
  return null;
}

/** The process serving `host:port` when that is this machine's loopback; null otherwise. */
export function localListenerPid(hostPort: string): number | null {
  const [host, port] = hostPort.split(':');
  return host === 'localhost' || host!.startsWith('127.') ? pidListeningOn(Number(port)) : null;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
