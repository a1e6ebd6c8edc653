// What TLS costs a start: two `tandem dev` servers (regions a and b on SQLite, replicating behind
// the global endpoint), one plaintext and one with `--tls` (the certificates `tandem certs dev`
// issues for deploy/local/two-regions-tls.json, in a temp folder). Rounds alternate plain, tls,
// plain, tls ...: N StartWorkflowExecution calls through the server's global endpoint with the
// official client (over TLS for the tls server), C in flight, nobody polling the queue. Each start
// crosses TLS twice (client -> global endpoint -> region a) and replicates to b over mutual TLS.
// `npx tsx bench/tls.ts --help`; bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { writeDevCertificates } from '../deploy/dev-certs.js';
import { loadTopology } from '../deploy/topology.js';
import { alignTable, parseFlags, positiveNumber, runIfMain, writeResultFile } from './cli.js';
import { msPer, otherCores, round } from './cpu.js';
import { DevServer, SERVER_PARTY } from './dev-server.js';
import { drive } from './drive.js';
import { machine } from './load.js';
import { summarize, type LatencySummary } from './percentiles.js';

export type Mode = 'plain' | 'tls';

export interface TlsBenchOptions {
  /** Starts per round. */
  workflows: number;
  concurrency: number;
  /** Pairs of rounds (plain then tls), to see the spread between identical rounds. */
  rounds: number;
  /** Cap on each round. */
  maxSeconds: number;
}

export const tlsBenchDefaults = { workflows: 1000, concurrency: 20, rounds: 2, maxSeconds: 120 } as const;

export interface Round {
  mode: Mode;
  done: number;
  errors: number;
  unfinished: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** The server process (both regions and the global endpoint). */
  serverCpuMsPerStart: number;
  otherCores?: number;
  errorSamples: string[];
}

export interface TlsBenchResult {
  options: TlsBenchOptions;
  rounds: Round[];
  startedAt: string;
  machine: ReturnType<typeof machine>;
}

/** deploy/local/two-regions-tls.json in a temp folder with its certificates issued there. */
function tlsTopology(dir: string): { topologyFile: string; ca: Buffer } {
  const topologyFile = path.join(dir, 'two-regions-tls.json');
  fs.copyFileSync(path.resolve('deploy/local/two-regions-tls.json'), topologyFile);
  const topology = loadTopology(topologyFile);
  writeDevCertificates(topology);
  return { topologyFile, ca: fs.readFileSync(topology.global.endpoint.tls!.caFile) };
}

export async function runTlsBench(opts: TlsBenchOptions): Promise<TlsBenchResult> {
  const startedAt = new Date().toISOString();
  const host = machine();
  const tag = `bench-tls-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-tls-'));
  const servers: Partial<Record<Mode, DevServer>> = {};
  const connections: Partial<Record<Mode, Connection>> = {};
  try {
    const tls = tlsTopology(dir);
    servers.plain = await DevServer.start({ store: 'sqlite', regions: 2 });
    servers.tls = await DevServer.start({ store: 'sqlite', regions: 2, tls });
    connections.plain = await Connection.connect({ address: servers.plain.address });
    connections.tls = await Connection.connect({ address: servers.tls.address, tls: { serverRootCACertificate: tls.ca } });
    const rounds: Round[] = [];
    for (let k = 0; k < opts.rounds * 2; k++) {
      const mode: Mode = k % 2 === 0 ? 'plain' : 'tls';
      const connection = connections[mode]!;
      const client = new Client({ connection, namespace: 'default' });
      const m = await drive(opts.workflows, opts.concurrency, opts.maxSeconds, servers[mode]!.probe, async (i, signal) => {
        await connection.withAbortSignal(signal, () => client.workflow.start('oneActivity', { taskQueue: tag, workflowId: `${tag}-${k}-${i}`, args: [i] }));
      });
      const done = m.latencies.length;
      rounds.push({
        mode,
        done,
        errors: m.errors.length,
        unfinished: m.unfinished,
        perSecond: round(done / m.cpu.wallSeconds, 1),
        latencyMs: summarize(m.latencies),
        serverCpuMsPerStart: msPer(m.cpu, done)[SERVER_PARTY]!,
        otherCores: otherCores(m.cpu),
        errorSamples: [...new Set(m.errors)].slice(0, 5),
      });
      console.error(`bench: round ${k + 1}/${opts.rounds * 2} (${mode}): ${rounds.at(-1)!.perSecond} starts/s, server ${rounds.at(-1)!.serverCpuMsPerStart} ms CPU/start`);
    }
    return { options: opts, rounds, startedAt, machine: host };
  } finally {
    for (const c of Object.values(connections)) await c.close();
    for (const s of Object.values(servers)) await s.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: TlsBenchResult): string {
  return alignTable(
    ['mode', 'N', 'C', 'done', 'errors', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server CPU ms/start', 'other cores'],
    r.rounds.map((x) => [
      x.mode,
      ...[r.options.workflows, r.options.concurrency, x.done, x.errors, x.perSecond, x.latencyMs.p50, x.latencyMs.p90, x.latencyMs.p99, x.latencyMs.max, x.serverCpuMsPerStart, x.otherCores ?? '-'].map(String),
    ]),
  );
}

const usage = `usage: npx tsx bench/tls.ts [--workflows N] [--concurrency C] [--rounds R] [--max-seconds S]
  --workflows    starts per round (default ${tlsBenchDefaults.workflows})
  --concurrency  starts in flight at once (default ${tlsBenchDefaults.concurrency})
  --rounds       pairs of rounds, plain then tls (default ${tlsBenchDefaults.rounds})
  --max-seconds  cap on each round (default ${tlsBenchDefaults.maxSeconds})`;

export function parseCommandLine(argv: string[]): TlsBenchOptions {
  const v = parseFlags(argv, ['workflows', 'concurrency', 'rounds', 'max-seconds']);
  return {
    workflows: positiveNumber('workflows', v.workflows, tlsBenchDefaults.workflows, true),
    concurrency: positiveNumber('concurrency', v.concurrency, tlsBenchDefaults.concurrency, true),
    rounds: positiveNumber('rounds', v.rounds, tlsBenchDefaults.rounds, true),
    maxSeconds: positiveNumber('max-seconds', v['max-seconds'], tlsBenchDefaults.maxSeconds, false),
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseCommandLine(argv);
  console.error(`bench: tls: ${opts.rounds} x (plain, tls) rounds of ${opts.workflows} starts at concurrency ${opts.concurrency}, two regions each`);
  const r = await runTlsBench(opts);
  console.error(`bench: wrote ${path.relative(process.cwd(), writeResultFile(r.startedAt, 'tls', r))}`);
  for (const e of r.rounds.flatMap((x) => x.errorSamples)) console.error(`bench: error: ${e}`);
  console.log(formatReport(r));
}

runIfMain(import.meta.url, main, usage);
