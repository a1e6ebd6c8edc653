// Replication lag as the sending region reports it: every 100 ms (by default), the largest
// `tandem_replication_lag_seconds` and the sum of `tandem_replication_lag_tasks` over the shards
// of one region pair, read from the source region's /metrics. The gauges are the age of the
// oldest shipped-or-skipped task not yet acknowledged, and the count of those, so they include
// the receiver's acknowledgement delay (an ack per applied batch, and at least every 250 ms).
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, type Family } from '../deploy/processes/prom-text.js';

export interface LagSample {
  /** ms since the sampler started. */
  atMs: number;
  maxSeconds: number;
  tasks: number;
}

function pairSamples(families: Map<string, Family>, name: string, source: string, target: string): number[] {
  return (families.get(name)?.samples ?? []).filter((s) => s.labels.source === source && s.labels.target === target).map((s) => s.value);
}

export class LagGauge {
  readonly samples: LagSample[] = [];
  private timer?: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private inFlight = false;

  constructor(
    private readonly metricsUrl: string,
    private readonly source: string,
    private readonly target: string,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
    return this;
  }

  stop(): LagSample[] {
    clearInterval(this.timer);
    return this.samples;
  }

  private async sample(): Promise<void> {
    // A scrape slower than the period is not stacked behind another.
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const text = await scrape(this.metricsUrl, 1000);
      if (text === null) return;
      const families = parsePrometheusText(text);
      const seconds = pairSamples(families, 'tandem_replication_lag_seconds', this.source, this.target);
      const tasks = pairSamples(families, 'tandem_replication_lag_tasks', this.source, this.target);
      this.samples.push({ atMs: Math.round(performance.now() - this.t0), maxSeconds: Math.max(0, ...seconds), tasks: tasks.reduce((a, b) => a + b, 0) });
    } finally {
      this.inFlight = false;
    }
  }
}
