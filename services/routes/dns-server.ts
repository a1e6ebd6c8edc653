// The DNS face of the route registry: `<namespace>.<domain>` answers A (the frontend's IPv4), SRV
// (its port, target the same name) and TXT (region=, epoch=, endpoint=, switching=) from the
// registry at query time, each with the record's TTL, so a tool that resolves names sees a failover
// once its cache expires. UDP on loopback; no recursion; a packet that does not parse is answered
// FORMERR (or dropped when it has no header), and nothing a packet holds can stop the server.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { CLASS, DnsFormatError, RCODE, RR, answerableId, encodeResponse, parseQuery, rdata, type DnsAnswer, type DnsQuery } from './dns-wire.js';
import { splitEndpoint, type RouteRecord, type RouteRegistry } from './route.js';

export interface RouteDnsConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The zone: `<namespace>.<domain>` names a route. */
  domain: string;
}

export const routeDnsDefaults: RouteDnsConfig = { host: '127.0.0.1', port: 8053, domain: 'routes.tandem' };

export function routeDnsConfig(partial: Partial<RouteDnsConfig> = {}): RouteDnsConfig {
  const c = { ...routeDnsDefaults, ...partial, domain: (partial.domain ?? routeDnsDefaults.domain).replace(/\.$/, '').toLowerCase() };
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new Error(`dns config: bad port ${c.port}`);
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(c.domain)) throw new Error(`dns config: bad domain ${JSON.stringify(c.domain)}`);
  return c;
}

export class RouteDnsServer implements Service {
  readonly config: RouteDnsConfig;
  private readonly zone: string[];
  private readonly log: Logger;
  private socket?: dgram.Socket;

  constructor(
    config: Partial<RouteDnsConfig>,
    private readonly deps: { routes: RouteRegistry; logger: Logger },
  ) {
    this.config = routeDnsConfig(config);
    this.zone = this.config.domain.split('.');
    this.log = deps.logger.child({ service: 'route-dns' });
  }

  get port(): number {
    const a = this.socket?.address();
    if (!a) throw new Error('route DNS server is not started');
    return a.port;
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (packet, peer) => void this.serve(socket, packet, peer));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.config.port, this.config.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A send that fails (the peer went away) is not the server's problem.
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'route DNS socket error'));
    this.socket = socket;
    this.log.info({ address: `${this.config.host}:${this.port}`, domain: this.config.domain }, 'route DNS listening');
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private async serve(socket: dgram.Socket, packet: Buffer, peer: dgram.RemoteInfo): Promise<void> {
    const id = answerableId(packet);
    if (id === undefined) return;
    let response: Buffer;
    try {
      response = await this.respond(parseQuery(packet));
    } catch (err) {
      if (!(err instanceof DnsFormatError)) this.log.warn({ err }, 'route DNS query failed');
      response = encodeResponse({ id }, err instanceof DnsFormatError ? RCODE.FORMERR : RCODE.SERVFAIL);
    }
    if (this.socket === socket) socket.send(response, peer.port, peer.address);
  }

  private async respond(query: DnsQuery): Promise<Buffer> {
    const { labels, type, qclass } = query.question;
    if (query.opcode !== 0) return encodeResponse(query, RCODE.NOTIMP);
    const suffix = labels.slice(-this.zone.length).map((l) => l.toLowerCase());
    if (qclass !== CLASS.IN && qclass !== CLASS.ANY) return encodeResponse(query, RCODE.REFUSED);
    if (labels.length < this.zone.length || suffix.join('.') !== this.config.domain) return encodeResponse(query, RCODE.REFUSED);
    if (labels.length === this.zone.length) return encodeResponse(query, RCODE.NOERROR);
    const record = labels.length === this.zone.length + 1 ? await this.deps.routes.get(labels[0]!) : undefined;
    if (!record) return encodeResponse(query, RCODE.NXDOMAIN);
    return encodeResponse(query, RCODE.NOERROR, await this.answers(record, type, labels));
  }

  private async answers(record: RouteRecord, type: number, name: string[]): Promise<DnsAnswer[]> {
    const ttlSeconds = Math.ceil(record.ttlMs / 1000);
    const { host, port } = splitEndpoint(record.endpoint);
    const any = type === 255;
    const out: DnsAnswer[] = [];
    if (type === RR.A || any) {
      for (const ip of await ipv4Of(host)) out.push({ type: RR.A, ttlSeconds, data: rdata.a(ip) });
    }
    if (type === RR.SRV || any) out.push({ type: RR.SRV, ttlSeconds, data: rdata.srv(port, name) });
    if (type === RR.TXT || any) {
      const pairs = [`region=${record.region}`, `epoch=${record.epoch}`, `endpoint=${record.endpoint}`];
      if (record.switching) pairs.push('switching=true');
      for (const p of pairs) out.push({ type: RR.TXT, ttlSeconds, data: rdata.txt([p]) });
    }
    return out;
  }
}

/** The IPv4 addresses of an endpoint's host: itself when it is one, else what the system resolver says. */
async function ipv4Of(host: string): Promise<string[]> {
  if (isIPv4(host)) return [host];
  try {
    return (await lookup(host, { family: 4, all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}
