// The control surface of a link proxy (deploy/processes/link-proxy.ts): plain HTTP on its
// controlPort, loopback by default. GET /healthz, GET /metrics, GET /state, POST /cut, POST /heal;
// each of the last three answers the link's state as JSON. linkControl() is the client the chaos
// verbs use.
import http from 'node:http';
import type { Service } from '../../services/common/lifecycle.js';
import type { Logger } from '../../services/common/logger.js';
import { gauge, type Registry } from '../../services/common/metrics.js';
import type { LinkSpec } from '../topology.js';
import type { TcpProxy } from './tcp-proxy.js';

export interface LinkState {
  id: string;
  from: string;
  to: string;
  cut: boolean;
  /** Connections open now. */
  connections: number;
  /** Connections accepted since the proxy started. */
  accepted: number;
}

export type LinkAction = 'cut' | 'heal' | 'state';

export class LinkControlServer implements Service {
  private server?: http.Server;
  private readonly cutGauge;
  private readonly openGauge;

  constructor(
    private readonly link: LinkSpec,
    private readonly proxy: TcpProxy,
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {
    this.cutGauge = gauge(registry, 'tandem_link_cut', '1 while the link between two regions is cut (tandem chaos partition)');
    this.openGauge = gauge(registry, 'tandem_link_connections', 'Connections open through the link');
  }

  state(): LinkState {
    const { id, from, to } = this.link;
    return { id, from, to, cut: this.proxy.isCut, connections: this.proxy.connections, accepted: this.proxy.accepted };
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.serve(req.method ?? 'GET', req.url ?? '/').then(
        ({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type });
          res.end(body);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(err.message);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.link.controlPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.log.info({ port: this.link.controlPort }, 'link control listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private async serve(method: string, url: string): Promise<{ status: number; type: string; body: string }> {
    const json = (body: unknown) => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });
    if (method === 'GET' && url === '/healthz') return { status: 200, type: 'text/plain', body: 'ok' };
    if (method === 'GET' && url === '/metrics') {
      this.cutGauge.set(this.proxy.isCut ? 1 : 0);
      this.openGauge.set(this.proxy.connections);
      return { status: 200, type: this.registry.contentType, body: await this.registry.metrics() };
    }
    if (method === 'GET' && url === '/state') return json(this.state());
    if (method === 'POST' && (url === '/cut' || url === '/heal')) {
      if (url === '/cut') await this.proxy.cut();
      else await this.proxy.heal();
      this.log.warn({ link: this.link.id, action: url.slice(1) }, url === '/cut' ? 'link cut: every connection dropped, new ones refused' : 'link healed');
      return json(this.state());
    }
    return { status: 404, type: 'text/plain', body: 'GET /healthz /metrics /state, POST /cut /heal\n' };
  }
}

/** Asks a link proxy to cut, heal or report; throws when it does not answer. */
export async function linkControl(link: LinkSpec, action: LinkAction, timeoutMs = 5000): Promise<LinkState> {
  const url = `http://127.0.0.1:${link.controlPort}/${action}`;
  let res: Response;
  try {
    res = await fetch(url, { method: action === 'state' ? 'GET' : 'POST', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`link ${link.id} does not answer on ${url} (is tandem up running?): ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`link ${link.id}: ${url} answered ${res.status} ${await res.text()}`);
  return (await res.json()) as LinkState;
}
