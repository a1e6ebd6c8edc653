// One prom-client registry per process, served at /metrics. Names are prefixed tandem_, in base
// units, counters end in _total.
import http from 'node:http';
import client from 'prom-client';
import type { Logger } from './logger.js';
import type { Service } from './lifecycle.js';

export type Registry = client.Registry;

export function createRegistry(defaultLabels: Record<string, string> = {}): Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels(defaultLabels);
  client.collectDefaultMetrics({ register: registry, prefix: 'tandem_process_' });
  return registry;
}

/** Gets a metric by name from the registry, creating it on first use, so services share one instance. */
function getOrCreate<T extends client.Metric<string>>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function counter(registry: Registry, name: string, help: string, labelNames: string[] = []) {
  return getOrCreate(registry, name, () => new client.Counter({ name, help, labelNames, registers: [registry] }));
}

export function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []) {
  return getOrCreate(registry, name, () => new client.Gauge({ name, help, labelNames, registers: [registry] }));
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function histogram(registry: Registry, name: string, help: string, labelNames: string[] = []) {
  return getOrCreate(
    registry,
    name,
    () => new client.Histogram({ name, help, labelNames, buckets: latencyBuckets, registers: [registry] }),
  );
}

/** Serves GET /metrics (Prometheus text) and GET /healthz on host:port. */
export class MetricsServer implements Service {
  private server?: http.Server;
  constructor(
    private readonly registry: Registry,
    private readonly host: string,
    private readonly port: number,
    private readonly log: Logger,
    /** When the port is taken: fail the start (region processes) or warn and serve without (dev). */
    private readonly onPortTaken: 'fail' | 'warn' = 'fail',
  ) {}

  get address(): string {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `${a.address}:${a.port}` : `${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (req.url === '/metrics') {
        this.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          },
          (err: Error) => {
            res.writeHead(500);
            res.end(err.message);
          },
        );
      } else if (req.url === '/healthz') {
        res.writeHead(200);
        res.end('ok');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        this.server!.once('error', reject);
        this.server!.listen(this.port, this.host, () => resolve());
      });
    } catch (err) {
      this.server = undefined;
      if (this.onPortTaken === 'warn' && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        this.log.warn({ port: this.port }, 'metrics port is taken; serving without /metrics (pass another --metrics-port)');
        return;
      }
      throw err;
    }
    this.log.info({ address: this.address }, 'metrics listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
