// The caller side of an internal service: one grpc-js client per member address, each call
// routed to a member, retried while an owner moves or is unreachable, and a long poll's
// AbortSignal turned into a half-close. Bidirectional streams are opened, not retried: their
// callers reconnect by themselves.
import * as grpc from '@grpc/grpc-js';
import { TandemError, apiError, type ErrorCode } from '../common/errors.js';
import { sleep, type Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import type { Member, Membership, Role } from '../membership/membership.js';
import { internalChannelOptions, methodName, type Definition, type RequestOf, type ResponseOf } from './definition.js';
import { tandemErrorFrom } from './error-trailers.js';

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

  /**
   * Opens a bidirectional stream on the member `route` picks, or returns undefined when none fits.
   * Not retried: the caller owns the stream and decides what a failure means.
   */
  openStream<K extends keyof S & string>(
    key: K,
    route: Route,
  ): { member: Member; call: grpc.ClientDuplexStream<RequestOf<S[K]>, ResponseOf<S[K]>> } | undefined {
    const member = route(this.members());
    if (!member) return undefined;
    const def = this.definition[key]!;
    const call = this.client(member.address).makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, new grpc.Metadata(), {});
    return { member, call: call as grpc.ClientDuplexStream<RequestOf<S[K]>, ResponseOf<S[K]>> };
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
      client = new grpc.Client(address, grpc.credentials.createInsecure(), internalChannelOptions);
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
