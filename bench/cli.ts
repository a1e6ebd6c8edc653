// What the bench command lines share: flag parsing with usage errors, the table printer, the
// result files, and the main runner.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { StoreKind } from '../test-e2e/harness.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** A bad command line: the message (if any), then the usage text, exit code 2. */
export class UsageError extends Error {}

/** `--name value` flags (every one a string) and `--help`; unknown flags are usage errors. */
export function parseFlags<const N extends string, const B extends string = never>(
  argv: string[],
  names: readonly N[],
  switches: readonly B[] = [],
): Partial<Record<N, string>> & Partial<Record<B, boolean>> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
        ...Object.fromEntries(switches.map((n) => [n, { type: 'boolean' as const }])),
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  return values as Partial<Record<N, string>> & Partial<Record<B, boolean>>;
}

export function positiveNumber(name: string, v: string | undefined, fallback: number, integer: boolean): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return n;
}

/** A count where 0 means "none" (skip a mode, no warm-up). */
export function count(name: string, v: string | undefined, fallback: number): number {
  return v === '0' ? 0 : positiveNumber(name, v, fallback, true);
}

/** A comma-separated list of positive integers, e.g. `--nodes 1,3,3,1`. */
export function positiveList(name: string, v: string | undefined, fallback: readonly number[]): number[] {
  return v === undefined ? [...fallback] : v.split(',').map((n) => positiveNumber(name, n, 0, true));
}

export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${v}`);
  return v as T;
}

/** `--store sqlite|cassandra|both`: the stores to run, in order. */
export function storesFlag(v: string | undefined, fallback: 'sqlite' | 'cassandra' | 'both'): StoreKind[] {
  const store = oneOf('store', v, ['sqlite', 'cassandra', 'both'], fallback);
  return store === 'both' ? ['sqlite', 'cassandra'] : [store];
}

/** Right-aligned columns, two spaces apart, the header first. */
export function alignTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c]!)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** Writes `bench/results/<startedAt>-<suffix>.json`; returns its path. */
export function writeResultFile(startedAt: string, suffix: string, data: unknown): string {
  const dir = path.join(benchDir, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.slice(0, 19).replace(/:/g, '-')}-${suffix}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** Runs a bench CLI's main when `moduleUrl` is the script node was started with. */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<void>, usageText: string): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(path.resolve(process.argv[1])).href) return;
  // The worker's state changes are INFO lines; they would bury the report.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  main(process.argv.slice(2)).then(
    // The worker's native runtime can keep handles open after shutdown; the report is done.
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        if (err.message) console.error(`bench: ${err.message}`);
        console.error(usageText);
        process.exit(2);
      }
      console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
