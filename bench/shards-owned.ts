// Waiting for shards to settle: until each history process's /metrics reports exactly the shards
// it should own (`tandem_history_shards_owned`), so that no shard moves under a measured load and
// start-up can be timed to the moment every shard has its owner.
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';

/** Shards a history process says it owns now; null when its /metrics does not answer. */
export async function shardsOwned(metricsUrl: string): Promise<number | null> {
  const text = await scrape(metricsUrl);
  return text === null ? null : sumSamples(parsePrometheusText(text), 'tandem_history_shards_owned');
}

/**
 * Resolves with what each process owns once every one owns its expected count (keys are names,
 * e.g. node ids); throws after `timeoutMs` with what they owned last.
 */
export async function shardsSettled(expected: Map<string, { metricsUrl: string; shards: number }>, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owned: Record<string, number> = {};
    for (const [name, { metricsUrl }] of expected) {
      const n = await shardsOwned(metricsUrl);
      if (n !== null) owned[name] = n;
    }
    if ([...expected].every(([name, e]) => owned[name] === e.shards)) return owned;
    if (Date.now() > deadline) {
      const want = Object.fromEntries([...expected].map(([name, e]) => [name, e.shards]));
      throw new Error(`shards not settled within ${timeoutMs} ms: owned ${JSON.stringify(owned)}, expected ${JSON.stringify(want)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
