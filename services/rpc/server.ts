// Internal gRPC services served on one port, driven by their ts-proto definitions: a method's
// kind (unary, long poll or bidirectional stream) is read from the .proto and never restated here.
import * as grpc from '@grpc/grpc-js';
import { bindInsecure, newStopController, stopGracefully } from '../common/grpc-server.js';
import { HealthState, healthDefinition } from '../common/health.js';
import { ENDED, type Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { counter, histogram, type Registry } from '../common/metrics.js';
import { MAX_MESSAGE_BYTES, methodName, type Definition, type RequestOf, type ResponseOf, type StreamCall } from './definition.js';
import { toServiceStatus } from './error-trailers.js';

/**
 * What a server implements: one async function per RPC. Long polls (client-streaming RPCs) get
 * a signal that aborts when the caller half-closes or goes away, or when the server stops;
 * unary calls get one that aborts only when the server stops. A bidirectional stream gets the
 * call itself (it reads and writes messages as it likes) and a signal that aborts when the server
 * stops; a stream still open then is ended with UNAVAILABLE, so its caller reconnects elsewhere.
 */
export type RpcHandlers<S> = {
  [K in keyof S]: S[K] extends { requestStream: true; responseStream: true }
    ? (call: StreamCall<S[K]>, signal: AbortSignal) => void
    : (request: RequestOf<S[K]>, signal: AbortSignal) => Promise<ResponseOf<S[K]>>;
};

/** One service of the server's port: its full name (health, metrics), definition and handlers. */
interface Served {
  name: string;
  definition: Definition;
  handlers: Record<string, (reqOrCall: never, signal: AbortSignal) => unknown>;
}

/** The metric labels of one method. */
type CallLabels = { service: string; method: string };

export interface InternalServerConfig {
  host: string;
  /** 0 picks a free port; `address` tells which. */
  port: number;
  /** stop() lets calls in flight finish for this long, then cuts them off. */
  drainTimeoutMs: number;
}

export const internalServerDefaults = { drainTimeoutMs: 10_000 } as const;

export function resolveInternalServerConfig(
  config: Pick<InternalServerConfig, 'host' | 'port'> & Partial<InternalServerConfig>,
): InternalServerConfig {
  const c = { ...internalServerDefaults, ...config };
  if (typeof c.host !== 'string' || c.host === '') throw new Error('internal rpc server: host is required');
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new Error(`internal rpc server: bad port ${c.port}`);
  if (!Number.isInteger(c.drainTimeoutMs) || c.drainTimeoutMs < 0) {
    throw new Error(`internal rpc server: drainTimeoutMs must be a non-negative integer, got ${c.drainTimeoutMs}`);
  }
  return c;
}

/**
 * One internal service on its own port (and any more added before start), plus grpc.health.v1
 * (SERVING between start and stop). stop(): health NOT_SERVING, long polls answer at once, streams
 * end with UNAVAILABLE, new calls are refused (UNAVAILABLE, which callers retry elsewhere), calls
 * in flight get drainTimeoutMs to finish.
 */
export class InternalGrpcServer<S extends Definition> implements Service {
  readonly config: InternalServerConfig;
  private health?: HealthState;
  private readonly served: Served[] = [];
  private readonly requests;
  private readonly durations;
  /** Aborted by stop(): long polls then answer with what they have. */
  private stopping = newStopController();
  private server?: grpc.Server;
  private boundPort?: number;

  constructor(
    serviceName: string,
    definition: S,
    handlers: RpcHandlers<S>,
    config: Pick<InternalServerConfig, 'host' | 'port'> & Partial<InternalServerConfig>,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.config = resolveInternalServerConfig(config);
    this.addService(serviceName, definition, handlers);
    this.requests = counter(registry, 'tandem_internal_rpc_server_requests_total', 'Internal gRPC calls served, by service, method and status code', [
      'service',
      'method',
      'code',
    ]);
    this.durations = histogram(registry, 'tandem_internal_rpc_server_request_duration_seconds', 'Internal gRPC call latency (long polls included)', [
      'service',
      'method',
    ]);
  }

  /** host:port actually bound (port 0 picks one). */
  get address(): string {
    return `${this.config.host}:${this.boundPort ?? this.config.port}`;
  }

  /** Serves one more service on this port (e.g. replication beside history); before start(). */
  addService<T extends Definition>(serviceName: string, definition: T, handlers: RpcHandlers<T>): this {
    if (this.server) throw new Error(`internal rpc server: ${serviceName} added after start`);
    this.served.push({ name: serviceName, definition, handlers: handlers as Served['handlers'] });
    return this;
  }

  private get serviceNames(): string[] {
    return this.served.map((s) => s.name);
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.stopping = newStopController();
    const server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    for (const s of this.served) server.addService(s.definition, this.implementation(s));
    const health = new HealthState(['', ...this.serviceNames]);
    server.addService(healthDefinition, health.implementation());
    this.boundPort = await bindInsecure(server, this.config.host, this.config.port);
    this.server = server;
    this.health = health;
    health.setServing(true);
    this.log.info({ address: this.address, services: this.serviceNames }, 'internal rpc server listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (!(await stopGracefully(server, this.health!, this.stopping, this.config.drainTimeoutMs))) {
      this.log.warn({ drainTimeoutMs: this.config.drainTimeoutMs }, 'internal rpc calls were still running after the drain timeout; cut off');
    }
    this.log.info({ services: this.serviceNames }, 'internal rpc server stopped');
  }

  private implementation(s: Served): grpc.UntypedServiceImplementation {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [key, def] of Object.entries(s.definition)) {
      const handler = s.handlers[key]!;
      const labels = { service: s.name, method: methodName(def.path) };
      if (def.requestStream && def.responseStream) impl[key] = this.bidi(labels, handler as (call: grpc.ServerDuplexStream<unknown, unknown>, signal: AbortSignal) => void);
      else if (def.requestStream) impl[key] = this.longPoll(labels, handler as (req: unknown, signal: AbortSignal) => Promise<unknown>);
      else impl[key] = this.unary(labels, handler as (req: unknown, signal: AbortSignal) => Promise<unknown>);
    }
    return impl;
  }

  private unary(labels: CallLabels, handler: (req: unknown, signal: AbortSignal) => Promise<unknown>): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => this.serve(labels, handler(call.request, this.stopping.signal), callback);
  }

  /**
   * The handler owns the call; this only times it, counts its final status, and ends it with
   * UNAVAILABLE when the server stops (a stream never drains by itself).
   */
  private bidi(labels: CallLabels, handler: (call: grpc.ServerDuplexStream<unknown, unknown>, signal: AbortSignal) => void): grpc.handleBidiStreamingCall<unknown, unknown> {
    return (call) => {
      const endTimer = this.durations.startTimer(labels);
      let code = 'OK';
      let counted = false;
      const count = () => {
        if (counted) return;
        counted = true;
        this.stopping.signal.removeEventListener('abort', onStop);
        endTimer();
        this.requests.inc({ ...labels, code });
      };
      const onStop = () => call.emit('error', { code: grpc.status.UNAVAILABLE, details: `${labels.method}: the server is stopping; reconnect` });
      call.on('error', (err: Partial<grpc.StatusObject>) => (code = grpc.status[err.code ?? grpc.status.UNKNOWN]));
      call.on('cancelled', () => {
        code = 'CANCELLED';
        count();
      });
      call.on('finish', count);
      if (this.stopping.signal.aborted) return onStop();
      this.stopping.signal.addEventListener('abort', onStop, { once: true });
      try {
        handler(call, this.stopping.signal);
      } catch (err) {
        call.emit('error', toServiceStatus(err, labels.method, this.log));
      }
    };
  }

  /** The caller sends one request and half-closes when it stops waiting (see history.proto). */
  private longPoll(
    labels: CallLabels,
    handler: (req: unknown, signal: AbortSignal) => Promise<unknown>,
  ): grpc.handleClientStreamingCall<unknown, unknown> {
    const { method } = labels;
    return (call, callback) => {
      const gaveUp = new AbortController();
      let received = false;
      call.on('data', (req: unknown) => {
        if (received) return;
        received = true;
        this.serve(labels, handler(req, AbortSignal.any([gaveUp.signal, this.stopping.signal])), callback);
      });
      const giveUp = () => {
        gaveUp.abort(ENDED);
        if (!received) {
          received = true;
          callback({ code: grpc.status.INVALID_ARGUMENT, details: `${method}: the stream ended before its request` });
        }
      };
      call.on('end', giveUp);
      call.on('cancelled', giveUp);
      call.on('error', giveUp);
    };
  }

  private serve(labels: CallLabels, result: Promise<unknown>, callback: grpc.sendUnaryData<unknown>): void {
    const endTimer = this.durations.startTimer(labels);
    result.then(
      (response) => {
        endTimer();
        this.requests.inc({ ...labels, code: 'OK' });
        callback(null, response);
      },
      (err: unknown) => {
        endTimer();
        const status = toServiceStatus(err, labels.method, this.log);
        this.requests.inc({ ...labels, code: grpc.status[status.code ?? grpc.status.UNKNOWN] });
        callback(status, null);
      },
    );
  }
}
