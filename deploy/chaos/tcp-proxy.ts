// A TCP forwarder that chaos can cut: the link between two regions (deploy/processes/link-proxy.ts)
// and the in-process link of test-e2e/two-regions.ts. cut() drops every connection and closes the
// listener, so a new connection is refused (what a partition looks like to gRPC: UNAVAILABLE at
// once, not a hang); heal() listens again on the same port.
import net from 'node:net';
import { freePort } from '../../services/common/free-port.js';

export interface TcpProxyAddress {
  host: string;
  port: number;
}

export class TcpProxy {
  private server?: net.Server;
  /** Client-side sockets; closing one closes its upstream. */
  private readonly clients = new Set<net.Socket>();
  /** Connections accepted since start (a reconnecting peer makes it grow). */
  accepted = 0;

  constructor(
    readonly listen: TcpProxyAddress,
    readonly target: TcpProxyAddress,
  ) {}

  /** Listening on a free 127.0.0.1 port, forwarding to 127.0.0.1:target. */
  static async start(target: number): Promise<TcpProxy> {
    const p = new TcpProxy({ host: '127.0.0.1', port: await freePort() }, { host: '127.0.0.1', port: target });
    await p.heal();
    return p;
  }

  get port(): number {
    return this.listen.port;
  }

  get address(): string {
    return `${this.listen.host}:${this.listen.port}`;
  }

  get isCut(): boolean {
    return this.server === undefined;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.clients.size;
  }

  /** Listens (again); resolves once new connections are accepted. Healing a healed proxy does nothing. */
  heal(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = net.createServer((client) => this.forward(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => {
        this.server = undefined;
        reject(err);
      });
      server.listen(this.listen.port, this.listen.host, () => resolve());
    });
  }

  /** Drops every connection and refuses new ones until heal(). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.clients) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private forward(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
