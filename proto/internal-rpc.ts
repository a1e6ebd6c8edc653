// The runtime shared by the internal gRPC services of proto/tandem/internal/v1 (history,
// matching): how a TandemError crosses the wire, the server side (health, metrics, drain) and the
// caller side (one client per member address, retries while an owner moves or is unreachable,
// AbortSignal -> half-close). Everything is driven by the ts-proto service definitions, so a
// method's kind (unary or long poll) is read from the .proto and never restated here.
import * as grpc from '@grpc/grpc-js';
import { TandemError, apiError, type ErrorCode, type ErrorDetail } from '../services/common/errors.js';
import { sleep, type Service } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import { counter, histogram, type Registry } from '../services/common/metrics.js';
import { root } from '../services/common/temporal.js';
import type { Member, Membership, Role } from '../services/membership/membership.js';
import { PersistenceError } from '../services/persistence/errors.js';
// The frontend's grpc.health.v1 implementation; it belongs in services/common, where it would
// serve every process the same way.
import { HealthState, healthDefinition } from '../services/common/health.js';
import { bindInsecure, newStopController, stopGracefully } from '../services/common/grpc-server.js';
import { ErrorDetails } from './gen/tandem/internal/v1/common.js';

/** The TandemError code of a failed call, so the caller rebuilds the same error. */
export const ERROR_CODE_TRAILER = 'tandem-error-code';
/** An ErrorDetails: the Temporal failure details of the TandemError. */
export const ERROR_DETAILS_TRAILER = 'tandem-error-details-bin';

/** History pages and poll responses carry whole payloads: the frontend already bounds them. */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

// ---- Temporal messages as bytes -----------------------------------------------------------

/** The static API of a @temporalio/proto message class. */
export interface TemporalType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
  fromObject(object: Record<string, unknown>): T;
}

/** fromObject first: it turns plain objects, bigints and base64 strings into what encode expects. */
export function encodeTemporal<T>(type: TemporalType<T>, value: unknown): Buffer {
  const bytes = type.encode(type.fromObject((value ?? {}) as Record<string, unknown>)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- errors --------------------------------------------------------------------------------

interface ReflectionType {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromObject(object: Record<string, unknown>): unknown;
  toObject(message: unknown): Record<string, unknown>;
}
// @temporalio/proto's root is a protobufjs Root at runtime; its declarations omit lookupType.
const reflection = root as unknown as { lookupType(name: string): ReflectionType };

/** What the server answers for an error: TandemErrors as they are, the rest as the frontend would map them. */
function asTandemError(err: unknown, method: string, log: Logger): TandemError {
  if (err instanceof TandemError) return err;
  if (err instanceof PersistenceError) {
    log.warn({ err, method }, 'persistence error escaped to the internal rpc');
    return apiError('UNAVAILABLE', `${err.name}: ${err.message}; retry`);
  }
  log.error({ err, method }, 'unexpected error in internal rpc handler');
  return apiError('INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`);
}

export function toServiceStatus(err: unknown, method: string, log: Logger): Partial<grpc.StatusObject> {
  const e = asTandemError(err, method, log);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, e.code);
  if (e.details.length > 0) {
    const details = [];
    for (const d of e.details) {
      try {
        const type = reflection.lookupType(d.typeName);
        details.push({ typeName: d.typeName, value: Buffer.from(type.encode(type.fromObject(d.value)).finish()) });
      } catch (encodeErr) {
        log.error({ err: encodeErr, typeName: d.typeName }, 'cannot encode error detail');
      }
    }
    metadata.set(ERROR_DETAILS_TRAILER, Buffer.from(ErrorDetails.encode({ details }).finish()));
  }
  return { code: e.grpcStatus, details: e.message, metadata };
}

function decodeDetails(raw: grpc.MetadataValue | undefined): ErrorDetail[] {
  if (!Buffer.isBuffer(raw)) return [];
  return ErrorDetails.decode(raw).details.map((d) => {
    const type = reflection.lookupType(d.typeName);
    return { typeName: d.typeName, value: type.toObject(type.decode(d.value)) };
  });
}

/** A TandemError sent by a server of ours, or null when the status came from the transport. */
export function tandemErrorFrom(err: grpc.ServiceError): TandemError | null {
  const code = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (typeof code !== 'string') return null;
  return new TandemError(code as ErrorCode, err.code, err.details, decodeDetails(err.metadata.get(ERROR_DETAILS_TRAILER)[0]));
}

const transportCodes: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [grpc.status.RESOURCE_EXHAUSTED]: 'BUSY',
};

/**
 * Retryable: the owner moved (SHARD_MOVED) or could not be reached (an UNAVAILABLE the transport
 * raised, no handler ran). A handler's own UNAVAILABLE (a store outage, a handover) goes back
 * to the caller as it is, exactly as the in-process call would throw it.
 */
function classify(err: unknown, what: string): { error: unknown; retryable: boolean } {
  if (!isServiceError(err)) return { error: err, retryable: false };
  const tandem = tandemErrorFrom(err);
  if (tandem) return { error: tandem, retryable: tandem.code === 'SHARD_MOVED' };
  const code = transportCodes[err.code] ?? 'INTERNAL';
  return { error: new TandemError(code, err.code, `${what}: ${err.details}`), retryable: err.code === grpc.status.UNAVAILABLE };
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as grpc.ServiceError).code === 'number' && 'metadata' in err;
}

// ---- definitions -----------------------------------------------------------------------------

type Definition = Record<string, { path: string; requestStream: boolean; responseStream: boolean }> & grpc.ServiceDefinition;
export type RequestOf<M> = M extends { requestSerialize: (value: infer Req) => Buffer } ? Req : never;
export type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer Res } ? Res : never;

/**
 * What a server implements: one async function per RPC. Long polls (client-streaming RPCs) get
 * a signal that aborts when the caller half-closes or goes away, or when the server stops;
 * unary calls get one that aborts only when the server stops.
 */
export type RpcHandlers<S> = {
  [K in keyof S]: (request: RequestOf<S[K]>, signal: AbortSignal) => Promise<ResponseOf<S[K]>>;
};

function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

// ---- server --------------------------------------------------------------------------------

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

// ---- caller --------------------------------------------------------------------------------

export interface RemoteCallOptions {
  /** How long a call keeps retrying a moved or unreachable owner (never past the call's signal). */
  retryDeadlineMs: number;
  /** First backoff between attempts; doubled per attempt up to retryMaxBackoffMs. */
  retryInitialBackoffMs: number;
  retryMaxBackoffMs: number;
  /** gRPC deadline of one attempt of a unary call (long polls end by their signal instead). */
  callTimeoutMs: number;
  /** After a long poll's signal aborts, how long the server may take to answer before the call is cancelled. */
  abortGraceMs: number;
}

export const remoteCallDefaults: Readonly<RemoteCallOptions> = Object.freeze({
  // Long enough for a shard to be acquired by its new owner after a node dies.
  retryDeadlineMs: 15_000,
  retryInitialBackoffMs: 50,
  retryMaxBackoffMs: 1_000,
  callTimeoutMs: 30_000,
  abortGraceMs: 5_000,
});

export function resolveRemoteCallOptions(options: Partial<RemoteCallOptions> = {}): RemoteCallOptions {
  const o: RemoteCallOptions = { ...remoteCallDefaults };
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!(name in remoteCallDefaults)) throw new Error(`remote call options: unknown setting ${name}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`remote call options: ${name} must be a positive integer, got ${String(value)}`);
    }
    o[name as keyof RemoteCallOptions] = value;
  }
  if (o.retryMaxBackoffMs < o.retryInitialBackoffMs) throw new Error('remote call options: retryMaxBackoffMs < retryInitialBackoffMs');
  return o;
}

const channelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  // A node that restarts on its address is reachable again within a second or two, not after
  // grpc's default reconnect backoff of up to two minutes.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

/**
 * A client whose address left the membership is closed this long after, so calls still running
 * on it (a long poll, a call to a node seen as dead that still answers) can finish.
 */
const DEPARTED_CLIENT_LINGER_MS = 120_000;

/** Picks the member that serves a call from the live members of the role. */
export type Route = (members: Member[]) => Member | undefined;

/**
 * The members of one role seen as one service: one grpc-js client per address (closed when the
 * address leaves the membership), calls routed per call and retried while the owner moves.
 */
export class RemoteService<S extends Definition> implements Service {
  readonly options: RemoteCallOptions;
  private readonly clients = new Map<string, grpc.Client>();
  private readonly closing = new Map<string, NodeJS.Timeout>();
  private unsubscribe?: () => void;
  /** Aborted by stop(): retries end, and no client is opened again until start(). */
  private stopped = new AbortController();

  constructor(
    private readonly role: Role,
    private readonly definition: S,
    private readonly membership: Membership,
    options: Partial<RemoteCallOptions> | undefined,
    private readonly log: Logger,
  ) {
    this.options = resolveRemoteCallOptions(options);
  }

  /** Watches the membership so clients of departed addresses get closed. */
  async start(): Promise<void> {
    if (this.stopped.signal.aborted) this.stopped = new AbortController();
    this.unsubscribe ??= this.membership.onChange(() => this.closeDeparted());
  }

  /** Closes every client: calls still running on them fail. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const timer of this.closing.values()) clearTimeout(timer);
    this.closing.clear();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  /** The live members of the role. */
  members(): Member[] {
    return this.membership.members(this.role);
  }

  /**
   * Calls `key` on the member `route` picks, retrying with backoff while that fails as retryable
   * (see classify), until retryDeadlineMs or `signal` (a long poll's) aborts.
   */
  async call<K extends keyof S & string>(
    key: K,
    request: RequestOf<S[K]>,
    route: Route,
    signal?: AbortSignal,
  ): Promise<ResponseOf<S[K]>> {
    const what = `${this.role} ${methodName(this.definition[key]!.path)}`;
    const deadline = Date.now() + this.options.retryDeadlineMs;
    const stopped = this.stopped.signal;
    for (let attempt = 1; ; attempt++) {
      const member = route(this.members());
      let failure: { error: unknown; retryable: boolean };
      if (!member) {
        failure = { error: apiError('UNAVAILABLE', `${what}: no live ${this.role} member`), retryable: true };
      } else {
        try {
          return await this.callOnce(member.address, key, request, signal);
        } catch (err) {
          failure = classify(err, `${what} on ${member.address}`);
        }
      }
      const backoff = Math.min(this.options.retryMaxBackoffMs, this.options.retryInitialBackoffMs * 2 ** (attempt - 1));
      if (!failure.retryable || signal?.aborted || Date.now() + backoff > deadline) throw failure.error;
      this.log.debug({ err: failure.error, attempt, address: member?.address, method: what }, 'internal rpc retry');
      await sleep(backoff, signal ? AbortSignal.any([signal, stopped]) : stopped);
      if (signal?.aborted || stopped.aborted) throw failure.error;
    }
  }

  /** One attempt on one address, no retry; errors are mapped as `call` maps them. */
  async callAt<K extends keyof S & string>(address: string, key: K, request: RequestOf<S[K]>): Promise<ResponseOf<S[K]>> {
    try {
      return await this.callOnce(address, key, request);
    } catch (err) {
      throw classify(err, `${this.role} ${methodName(this.definition[key]!.path)} on ${address}`).error;
    }
  }

  private callOnce<K extends keyof S & string>(
    address: string,
    key: K,
    request: RequestOf<S[K]>,
    signal?: AbortSignal,
  ): Promise<ResponseOf<S[K]>> {
    const def = this.definition[key]!;
    const client = this.client(address);
    return new Promise((resolve, reject) => {
      const done = (err: grpc.ServiceError | null, response?: unknown) =>
        err ? reject(err) : resolve(response as ResponseOf<S[K]>);
      if (!def.requestStream) {
        client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, new grpc.Metadata(), {
          deadline: Date.now() + this.options.callTimeoutMs,
        }, done);
        return;
      }
      // A long poll: the request, then a half-close when the caller stops waiting, so the server
      // answers what it has (as the in-process call does when its signal aborts).
      let grace: NodeJS.Timeout | undefined;
      let cancelledAfterGrace = false;
      const onAbort = () => {
        stream.end();
        grace = setTimeout(() => {
          cancelledAfterGrace = true;
          stream.cancel();
        }, this.options.abortGraceMs);
      };
      const stream = client.makeClientStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, new grpc.Metadata(), {}, (err, response) => {
        clearTimeout(grace);
        signal?.removeEventListener('abort', onAbort);
        if (err && cancelledAfterGrace) {
          reject(apiError('DEADLINE_EXCEEDED', `${address} did not answer within ${this.options.abortGraceMs} ms after the caller gave up`));
        } else {
          done(err, response);
        }
      });
      stream.write(request);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private client(address: string): grpc.Client {
    if (this.stopped.signal.aborted) throw apiError('UNAVAILABLE', `the ${this.role} client is stopped`);
    let client = this.clients.get(address);
    if (!client) {
      client = new grpc.Client(address, grpc.credentials.createInsecure(), channelOptions);
      this.clients.set(address, client);
    }
    return client;
  }

  private closeDeparted(): void {
    const live = new Set(this.members().map((m) => m.address));
    for (const address of this.clients.keys()) {
      if (live.has(address) || this.closing.has(address)) continue;
      const timer = setTimeout(() => {
        this.closing.delete(address);
        if (this.members().some((m) => m.address === address)) return;
        this.clients.get(address)?.close();
        this.clients.delete(address);
      }, DEPARTED_CLIENT_LINGER_MS);
      timer.unref();
      this.closing.set(address, timer);
    }
  }
}
