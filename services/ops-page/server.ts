// The operations page over HTTP (node:http): the page itself (three static files of page/), its
// data (GET /api/snapshot, with the lag history for the live chart) and its two actions (POST
// /api/failover, POST /api/drill), all answered by an OpsBackend. The page confirms an action
// with the operator before it posts; the server only checks the input and says who asked.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { counter, type Registry } from '../common/metrics.js';
import { OpsBadRequest, type OpsBackend, type OpsSnapshot } from './backend.js';
import { opsPageDefaults, type OpsPageConfig } from './config.js';
import { LagHistory, type LagSeries } from './lag-history.js';

/** What GET /api/snapshot answers: the backend's snapshot and the chart's history. */
export interface OpsPageSnapshot extends OpsSnapshot {
  lagHistory: LagSeries[];
  lagHistoryMs: number;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ops.js': { file: 'ops.js', type: 'text/javascript; charset=utf-8' },
  '/ops.css': { file: 'ops.css', type: 'text/css; charset=utf-8' },
};

/** Nothing the page uses comes from anywhere but this server. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OpsPageDeps {
  backend: OpsBackend;
  logger: Logger;
  /** Counts the actions (tandem_ops_page_actions_total) when given. */
  registry?: Registry;
}

export class OpsPageServer implements Service {
  readonly config: OpsPageConfig;
  private readonly log: Logger;
  private readonly history: LagHistory;
  private readonly files = new Map<string, Buffer>();
  private readonly actions?: ReturnType<typeof counter>;
  private server?: http.Server;
  private sampler?: NodeJS.Timeout;
  private sampling = false;

  constructor(
    config: Partial<OpsPageConfig>,
    private readonly deps: OpsPageDeps,
  ) {
    this.config = { ...opsPageDefaults, ...config };
    this.log = deps.logger.child({ service: 'ops-page' });
    this.history = new LagHistory(this.config.lagHistoryMs, this.config.sampleEveryMs / 2);
    if (deps.registry) this.actions = counter(deps.registry, 'tandem_ops_page_actions_total', 'Failovers and drills asked from the operations page, by outcome', ['action', 'outcome']);
  }

  /** The page's URL once started. */
  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return `http://${a ? `${a.address}:${a.port}` : `${this.config.host}:${this.config.port}`}/`;
  }

  async start(): Promise<void> {
    for (const { file } of Object.values(STATIC)) this.files.set(file, readFileSync(new URL(`./page/${file}`, import.meta.url)));
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    // The chart's history grows while nobody has the page open.
    this.sampler = setInterval(() => void this.sample(), this.config.sampleEveryMs);
    this.sampler.unref();
    this.log.info({ url: this.url }, 'operations page is serving');
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // The page polls every second over keep-alive connections: idle ones are closed at once.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      await this.snapshot();
    } catch (err) {
      this.log.warn({ err }, 'lag sample failed');
    } finally {
      this.sampling = false;
    }
  }

  private async snapshot(): Promise<OpsPageSnapshot> {
    const snap = await this.deps.backend.snapshot();
    this.history.record(snap.generatedAtMs, snap.lag);
    return { ...snap, lagHistory: this.history.list(snap.generatedAtMs), lagHistoryMs: this.config.lagHistoryMs };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    try {
      const page = STATIC[path];
      if (page) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} ${path}: use GET`);
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': page.type });
        res.end(req.method === 'HEAD' ? undefined : this.files.get(page.file));
        return;
      }
      switch (path) {
        case '/api/snapshot':
          if (req.method !== 'GET') throw new HttpError(405, `${req.method} ${path}: use GET`);
          return json(res, 200, await this.snapshot());
        case '/api/failover': {
          const body = await this.readAction(req, path);
          const namespace = requiredString(body, 'namespace');
          const toRegion = requiredString(body, 'toRegion');
          const force = optionalBoolean(body, 'force');
          const outcome = await this.counted('failover', () => this.deps.backend.failover(namespace, toRegion, force, this.identity(req)), (o) => o.ok);
          return json(res, 200, { outcome });
        }
        case '/api/drill': {
          const body = await this.readAction(req, path);
          const region = requiredString(body, 'region');
          const andBack = optionalBoolean(body, 'andBack');
          const outcomes = await this.counted('drill', () => this.deps.backend.drill(region, andBack, this.identity(req)), (os) => os.every((o) => o.ok));
          return json(res, 200, { outcomes });
        }
        default:
          throw new HttpError(404, `no such page: ${path}`);
      }
    } catch (err) {
      const status = err instanceof HttpError ? err.status : err instanceof OpsBadRequest ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status === 500) this.log.error({ err, path }, 'operations page request failed');
      if (!res.headersSent) json(res, status, { error: message });
      else res.destroy();
    }
  }

  private async counted<T>(action: string, run: () => Promise<T>, ok: (r: T) => boolean): Promise<T> {
    try {
      const r = await run();
      this.actions?.inc({ action, outcome: ok(r) ? 'ok' : 'failed' });
      return r;
    } catch (err) {
      this.actions?.inc({ action, outcome: 'error' });
      throw err;
    }
  }

  /** An action's JSON body. It must say application/json: a cross-site form cannot, so it cannot trigger a failover. */
  private async readAction(req: http.IncomingMessage, path: string): Promise<Record<string, unknown>> {
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} ${path}: use POST`);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, `${path} takes a JSON body (content-type: application/json)`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.config.maxBodyBytes) throw new HttpError(413, `request body over ${this.config.maxBodyBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `request body is not JSON: ${(err as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object');
    return body as Record<string, unknown>;
  }

  private identity(req: http.IncomingMessage): string {
    const address = req.socket.remoteAddress ?? 'unknown address';
    const operator = req.headers[this.config.identityHeader];
    const name = (Array.isArray(operator) ? operator[0] : operator)?.trim().slice(0, 200);
    return name ? `${name} (ops page, ${address})` : `ops page (${address})`;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.trim() === '') throw new HttpError(400, `${field} is required (a non-empty string)`);
  return v.trim();
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean {
  const v = body[field] ?? false;
  if (typeof v !== 'boolean') throw new HttpError(400, `${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
