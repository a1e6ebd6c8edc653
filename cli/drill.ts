// tandem drill <region> [--and-back] [--canaries N] [--regions ... | --topology FILE]
// A failover drill: every global namespace active in <region> fails over gracefully to another of
// its regions (and back with --and-back), talking to the regions' frontends directly. Before the
// switch it starts --canaries workflows in each namespace and checks them after each step in the
// new active region: "lost" = not found there, "duplicated" = its id answered by another run. It
// checks nothing else (no other workflow's history). Prints one JSON report per namespace; exits
// 1 when a step failed or a canary was lost or duplicated.
import os from 'node:os';
import { Option, type Command } from 'commander';
import { drillRegion } from '../services/controller/drill.js';
import { examples } from './help.js';
import { count, durationMs } from './options.js';
import { regionClients, withRegionsOptions, type RegionsOptions } from './failover-log.js';

interface DrillOptions extends RegionsOptions {
  andBack: boolean;
  canaries: number;
  timeout: number;
}

async function drill(region: string, o: DrillOptions): Promise<void> {
  const clients = regionClients(o);
  try {
    const identity = `${os.userInfo().username}@${os.hostname()} (tandem drill ${region}${o.andBack ? ' --and-back' : ''})`;
    const reports = await drillRegion(clients, region, { andBack: o.andBack, identity, timeoutMs: o.timeout, canaries: o.canaries, callTimeoutMs: 10_000 });
    if (reports.length === 0) console.error(`tandem: no global namespace is active in region ${region}`);
    let failed = false;
    for (const r of reports) {
      const lost = r.checks.reduce((n, c) => n + c.lost.length, 0);
      const duplicated = r.checks.reduce((n, c) => n + c.duplicated.length, 0);
      failed ||= r.steps.some((s) => !s.ok) || lost > 0 || duplicated > 0;
      console.log(
        JSON.stringify({
          namespace: r.namespace,
          steps: r.steps.map((s) => ({ from: s.fromRegion, to: s.toRegion, mode: s.mode, ok: s.ok, durationMs: s.durationMs, message: s.message })),
          canaries: { perStep: o.canaries, checks: r.checks, lost, duplicated },
        }),
      );
    }
    if (failed) process.exitCode = 1;
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
  }
}

export function drillCommand(program: Command): void {
  const cmd = withRegionsOptions(
    program
      .command('drill')
      .description('gracefully fail over every global namespace active in <region> to another region (and back), with a report per namespace')
      .argument('<region>', 'the region to drain'),
  )
    .option('--and-back', 'fail each namespace back to <region> afterwards', false)
    .addOption(new Option('--canaries <n>', 'canary workflows started per namespace before the switch and checked after it').default(5).argParser(count))
    .addOption(new Option('--timeout <duration>', 'how long each graceful failover may wait for replication').default(10_000, '10s').argParser(durationMs))
    .action((region: string, o: DrillOptions) => drill(region, o));
  examples(cmd, [
    'tandem drill a --and-back  # make dev: a -> b, then b -> a, 5 canaries per namespace',
    'tandem drill a --topology deploy/local/two-regions.json --canaries 20',
  ]);
}
