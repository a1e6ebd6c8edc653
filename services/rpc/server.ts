// One internal gRPC service served on its own port, driven by its ts-proto definition: a
// method's kind (unary or long poll) is read from the .proto and never restated here.
import * as grpc from '@grpc/grpc-js';
import { bindInsecure, newStopController, stopGracefully } from '../common/grpc-server.js';
import { HealthState, healthDefinition } from '../common/health.js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { counter, histogram, type Registry } from '../common/metrics.js';
import { MAX_MESSAGE_BYTES, methodName, type Definition, type RequestOf, type ResponseOf } from './definition.js';
import { toServiceStatus } from './error-trailers.js';

/**
 * What a server implements: one async function per RPC. Long polls (client-streaming RPCs) get
 * a signal that aborts when the caller half-closes or goes away, or when the server stops;
 * unary calls get one that aborts only when the server stops.
 */
export type RpcHandlers<S> = {
  [K in keyof S]: (request: RequestOf<S[K]>, signal: AbortSignal) => Promise<ResponseOf<S[K]>>;
};

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
 * One internal service on its own port, plus grpc.health.v1 (SERVING between start and stop).
 * stop(): health NOT_SERVING, long polls answer at once, new calls are refused (UNAVAILABLE, which
 * callers retry elsewhere), calls in flight get drainTimeoutMs to finish.
 */
export class InternalGrpcServer<S extends Definition> implements Service {
  readonly config: InternalServerConfig;
  private readonly health: HealthState;
  private readonly requests;
  private readonly durations;
  /** Aborted by stop(): long polls then answer with what they have. */
  private stopping = newStopController();
  private server?: grpc.Server;
  private boundPort?: number;

  constructor(
    private readonly serviceName: string,
    private readonly definition: S,
    private readonly handlers: RpcHandlers<S>,
    config: Pick<InternalServerConfig, 'host' | 'port'> & Partial<InternalServerConfig>,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.config = resolveInternalServerConfig(config);
    this.health = new HealthState(['', serviceName]);
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

  async start(): Promise<void> {
    if (this.server) return;
    this.stopping = newStopController();
    const server = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    const impl: grpc.UntypedServiceImplementation = {};
    for (const key of Object.keys(this.definition)) {
      const def = this.definition[key]!;
      const handler = this.handlers[key as keyof S] as (req: unknown, signal: AbortSignal) => Promise<unknown>;
      const method = methodName(def.path);
      impl[key] = def.requestStream ? this.longPoll(method, handler) : this.unary(method, handler);
    }
    server.addService(this.definition, impl);
    server.addService(healthDefinition, this.health.implementation());
    this.boundPort = await bindInsecure(server, this.config.host, this.config.port);
    this.server = server;
    this.health.setServing(true);
    this.log.info({ address: this.address, service: this.serviceName }, 'internal rpc server listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (!(await stopGracefully(server, this.health, this.stopping, this.config.drainTimeoutMs))) {
      this.log.warn({ drainTimeoutMs: this.config.drainTimeoutMs }, 'internal rpc calls were still running after the drain timeout; cut off');
    }
    this.log.info({ service: this.serviceName }, 'internal rpc server stopped');
  }

  private unary(method: string, handler: (req: unknown, signal: AbortSignal) => Promise<unknown>): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => this.serve(method, handler(call.request, this.stopping.signal), callback);
  }

  /** The caller sends one request and half-closes when it stops waiting (see history.proto). */
  private longPoll(
    method: string,
    handler: (req: unknown, signal: AbortSignal) => Promise<unknown>,
  ): grpc.handleClientStreamingCall<unknown, unknown> {
    return (call, callback) => {
      const gaveUp = new AbortController();
      let received = false;
      call.on('data', (req: unknown) => {
        if (received) return;
        received = true;
        this.serve(method, handler(req, AbortSignal.any([gaveUp.signal, this.stopping.signal])), callback);
      });
      const giveUp = () => {
        gaveUp.abort();
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

  private serve(method: string, result: Promise<unknown>, callback: grpc.sendUnaryData<unknown>): void {
    const endTimer = this.durations.startTimer({ service: this.serviceName, method });
    result.then(
      (response) => {
        endTimer();
        this.requests.inc({ service: this.serviceName, method, code: 'OK' });
        callback(null, response);
      },
      (err: unknown) => {
        endTimer();
        const status = toServiceStatus(err, method, this.log);
        this.requests.inc({ service: this.serviceName, method, code: grpc.status[status.code ?? grpc.status.UNKNOWN] });
        callback(status, null);
      },
    );
  }
}
