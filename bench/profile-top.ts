// The frames a process spent its CPU in: reads `.cpuprofile` files (`node --cpu-prof`, which the
// launchers add with TANDEM_CPU_PROF_DIR) and prints, per file, the top frames by self time and the
// same time by module (a package under node_modules, a folder of this repository, node's own).
// Idle samples are left out of the shares: a share is of the time the process was on a core.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { alignTable, positiveNumber, runIfMain, UsageError } from './cli.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

/** The parts of the format (Chrome DevTools' Profiler.Profile) read here. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameTime {
  frame: string;
  module: string;
  selfMs: number;
}

export interface ProfileSummary {
  /** Time on a core (every sample but `(idle)`), ms. */
  busyMs: number;
  /** Share of each second of the profile spent on a core (0 to 1), from its start: where the load ran. */
  timeline: number[];
  frames: FrameTime[];
  modules: { module: string; selfMs: number }[];
}

const IDLE = '(idle)';

/** Where a frame's code lives: `pino`, `@grpc/grpc-js`, `services/history`, `node:internal`, `(gc)`. */
export function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const [scope, name] = p.slice(nm + '/node_modules/'.length).split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  const parts = p.split('/');
  const top = parts.findIndex((x) => ['services', 'replication', 'deploy', 'cli', 'bench', 'test-e2e', 'proto'].includes(x));
  return top >= 0 ? parts.slice(top, parts[top] === 'services' ? top + 2 : top + 1).join('/') : path.basename(p);
}

function frameName(f: CallFrame): string {
  if (!f.url) return f.functionName;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
  return `${f.functionName || '(anonymous)'} ${file.replace(/^.*\/(services|replication|deploy|bench|proto)\//, '$1/')}:${f.lineNumber + 1}`;
}

/** Self time per frame and per module of the samples between `window.sinceMs` and `window.untilMs` after the profile's start. */
export function summarize(profile: CpuProfile, window: { sinceMs?: number; untilMs?: number } = {}): ProfileSummary {
  const { sinceMs = 0, untilMs = Infinity } = window;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const frames = new Map<string, FrameTime>();
  const timeline: number[] = [];
  let tUs = 0;
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    tUs += profile.timeDeltas[i] ?? 0;
    // A sample's time is the interval up to the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const f = byId.get(id)!;
    if (f.functionName === IDLE) return;
    const second = Math.floor(tUs / 1e6);
    while (timeline.length <= second) timeline.push(0);
    timeline[second]! += dt / 1e6;
    if (tUs / 1000 < sinceMs || tUs / 1000 >= untilMs) return;
    busyUs += dt;
    const name = frameName(f);
    const e = frames.get(name) ?? { frame: name, module: moduleOf(f.url, f.functionName), selfMs: 0 };
    e.selfMs += dt / 1000;
    frames.set(name, e);
  });
  const modules = new Map<string, number>();
  for (const f of frames.values()) modules.set(f.module, (modules.get(f.module) ?? 0) + f.selfMs);
  const desc = <T extends { selfMs: number }>(xs: T[]) => xs.sort((a, b) => b.selfMs - a.selfMs);
  return {
    busyMs: busyUs / 1000,
    timeline,
    frames: desc([...frames.values()]),
    modules: desc([...modules].map(([module, selfMs]) => ({ module, selfMs }))),
  };
}

export function formatSummary(name: string, s: ProfileSummary, top: number): string {
  const pct = (ms: number) => `${((100 * ms) / Math.max(s.busyMs, 1e-9)).toFixed(1)}%`;
  const frames = s.frames.slice(0, top).map((f) => [pct(f.selfMs), f.selfMs.toFixed(0), f.module, f.frame]);
  const modules = s.modules.slice(0, top).map((m) => [pct(m.selfMs), m.selfMs.toFixed(0), m.module]);
  return [
    `${name}: ${(s.busyMs / 1000).toFixed(1)} s on a core`,
    `on a core, % per second from the start: ${s.timeline.map((x, i) => `${i}:${Math.round(100 * x)}`).join(' ')}`,
    alignTable(['self', 'ms', 'module', 'frame'], frames),
    '',
    alignTable(['self', 'ms', 'module'], modules),
  ].join('\n');
}

const usage = `usage: npx tsx bench/profile-top.ts [--top N] [--since S] [--until S] FILE.cpuprofile|DIR ...
  --top    frames and modules printed per profile (default 25)
  --since  leave out the first S seconds of each profile (start-up: the timeline line shows where the load ran)
  --until  and what comes S seconds after its start or later (shutdown)`;

/** A file, or every profile below a folder (TANDEM_CPU_PROF_DIR holds a folder per process). */
function profileFiles(p: string): string[] {
  if (!fs.statSync(p).isDirectory()) return [p];
  return (fs.readdirSync(p, { recursive: true }) as string[]).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => path.join(p, f));
}

async function main(argv: string[]): Promise<void> {
  const options = { top: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, help: { type: 'boolean' } } as const;
  const parse = () => parseArgs({ args: argv, allowPositionals: true, options });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help || positionals.length === 0) throw new UsageError('');
  const top = positiveNumber('top', v.top, 25, true);
  const seconds = (name: 'since' | 'until') => (v[name] === undefined ? undefined : positiveNumber(name, v[name], 0, false) * 1000);
  const window = { sinceMs: seconds('since'), untilMs: seconds('until') };
  for (const file of positionals.flatMap(profileFiles)) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    console.log(`${formatSummary(file, summarize(profile, window), top)}\n`);
  }
}

runIfMain(import.meta.url, main, usage);
