// Forwarding (DESIGN invariant 8): a call for a namespace active in another region is sent to
// that region's frontend and its answer goes back to the caller as it came (status, message,
// trailers). When the active region cannot be reached, the caller gets what it would get without
// forwarding: NamespaceNotActive, or the local copy for reads (the context decides).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { counter, type Registry } from '../common/metrics.js';
import { reflectionRoot, serviceDefinition } from '../common/grpc-codec.js';
import type { RegionConfig } from '../namespaces/failover.js';
import type { FrontendConfig } from './config.js';

/**
 * Temporal's own marker: a call carrying `xdc-redirection: false` is served where it lands and
 * never forwarded. Every forwarded call carries it, so two regions that each think the other is
 * active end the call in NamespaceNotActive instead of passing it back and forth.
 */
export const NO_FORWARD_HEADER = 'xdc-redirection';

/** The gRPC server's view of the call being served: what a forwarded call takes from it. */
export type IncomingCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getDeadline' | 'getPath' | 'once' | 'off'>;

/** An error answer of the active region, relayed unchanged; errors.ts sends it as it is. */
export class ForwardedStatus extends Error {
  override name = 'ForwardedStatus';
  constructor(readonly status: Partial<grpc.StatusObject>) {
    super(status.details);
  }
}

/** Headers of the remote's HTTP/2 response, not of its answer: this server's transport writes its own. */
const TRANSPORT_TRAILERS = ['content-type', 'date'];

/**
 * Codes the client side raises when the remote frontend did not answer. A Tandem frontend's own
 * error always carries grpc-status-details-bin, so an UNAVAILABLE with it (a handover) is an
 * answer to relay, and one without it means the region is unreachable.
 */
const UNREACHABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

function answeredByServer(err: grpc.ServiceError): boolean {
  return !UNREACHABLE.has(err.code) || err.metadata?.get('grpc-status-details-bin').length > 0;
}

function relayed(err: grpc.ServiceError): ForwardedStatus {
  const metadata = err.metadata?.clone() ?? new grpc.Metadata();
  for (const key of TRANSPORT_TRAILERS) metadata.remove(key);
  return new ForwardedStatus({ code: err.code, details: err.details, metadata });
}

const channelOptions: grpc.ChannelOptions = {
  // The request passed this frontend's own receive limit, and answers (history pages) are bounded
  // by the remote frontend: neither hop adds a limit of its own.
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // A frontend that comes back after an outage is used within seconds, not after grpc's default
  // reconnect backoff of up to two minutes (calls in that backoff fail at once as unreachable).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

export class Forwarder {
  /** One client (channel) per remote frontend address, reused by every call. */
  private readonly clients = new Map<string, grpc.Client>();
  private readonly definitions = new Map<string, grpc.ServiceDefinition>();
  private readonly forwarded: ReturnType<typeof counter>;

  constructor(
    private readonly config: FrontendConfig,
    private readonly regions: RegionConfig[],
    registry: Registry,
    private readonly log: Logger,
    private readonly credentials = grpc.credentials.createInsecure(),
  ) {
    this.forwarded = counter(
      registry,
      'tandem_frontend_forwarded_requests_total',
      'Calls forwarded to the active region of their namespace, by method, target region and gRPC code',
      ['method', 'target', 'code'],
    );
  }

  /**
   * Sends the call to `region`'s frontend. Returns the answer, throws ForwardedStatus for an
   * error answer, or returns undefined when the call may not be forwarded (forwarding off, the
   * call was already forwarded, the region has no frontend address) or the region did not answer.
   * `capMs` bounds the forwarded call when the caller's deadline is later or absent.
   */
  async forward(region: string, incoming: IncomingCall, request: object, capMs: number): Promise<object | undefined> {
    if (!this.config.forwardingEnabled || incoming.metadata.get(NO_FORWARD_HEADER)[0] === 'false') return undefined;
    const address = this.regions.find((r) => r.name === region)?.frontendAddress;
    const path = incoming.getPath();
    const method = path.slice(path.lastIndexOf('/') + 1);
    if (!address) {
      this.log.debug({ method, region }, 'not forwarded: the active region has no frontend address');
      return undefined;
    }
    try {
      const response = await this.call(address, path, incoming, request, capMs);
      this.forwarded.inc({ method, target: region, code: 'OK' });
      this.log.debug({ method, region, address }, 'forwarded');
      return response;
    } catch (err) {
      const e = err as grpc.ServiceError;
      this.forwarded.inc({ method, target: region, code: grpc.status[e.code] ?? String(e.code) });
      if (answeredByServer(e)) throw relayed(e);
      this.log.warn({ method, region, address, code: grpc.status[e.code], details: e.details }, 'active region unreachable; call not forwarded');
      return undefined;
    }
  }

  /** Closes every channel; calls still on them end as unreachable. Clients reopen on demand. */
  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private call(address: string, path: string, incoming: IncomingCall, request: object, capMs: number): Promise<object> {
    const method = this.method(path);
    const metadata = incoming.metadata.clone();
    metadata.set(NO_FORWARD_HEADER, 'false');
    const callerDeadline = incoming.getDeadline();
    const deadline = Math.min(callerDeadline instanceof Date ? callerDeadline.getTime() : callerDeadline, Date.now() + capMs);
    return new Promise((resolve, reject) => {
      const outgoing = this.client(address).makeUnaryRequest(
        path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline },
        (err, response) => {
          incoming.off('cancelled', cancel);
          if (err) reject(err);
          else resolve(response as object);
        },
      );
      // The caller gave up (a worker stopping its poll): so does the forwarded call.
      const cancel = () => outgoing.cancel();
      incoming.once('cancelled', cancel);
    });
  }

  private method(path: string): grpc.MethodDefinition<unknown, unknown> {
    const [, serviceName = '', methodName = ''] = path.split('/');
    let def = this.definitions.get(serviceName);
    if (!def) {
      def = serviceDefinition(reflectionRoot.lookupService(serviceName));
      this.definitions.set(serviceName, def);
    }
    return def[methodName]!;
  }

  private client(address: string): grpc.Client {
    let client = this.clients.get(address);
    if (!client) {
      client = new grpc.Client(address, this.credentials, channelOptions);
      this.clients.set(address, client);
    }
    return client;
  }
}
