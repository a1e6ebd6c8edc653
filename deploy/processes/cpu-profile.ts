// Node's own CPU profiler for the processes the launchers spawn: with TANDEM_CPU_PROF_DIR set, each
// one writes its profiles into `<dir>/<name>/` when it exits gracefully (SIGTERM, not SIGKILL):
// one file per thread (node's own names: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile), the
// main thread's and tsx's loader thread's, so a name of ours would have one overwrite the other.
import path from 'node:path';

export const CPU_PROF_DIR_ENV = 'TANDEM_CPU_PROF_DIR';

/** The node flags that profile a process named `name` (a node id, `tandem-dev`), or none. */
export function cpuProfileFlags(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = env[CPU_PROF_DIR_ENV];
  if (!dir) return [];
  return ['--cpu-prof', '--cpu-prof-dir', path.resolve(dir, name)];
}
