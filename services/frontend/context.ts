// What every handler gets: the frontend's dependencies, its config, and per-call context; and
// where a call is served: here, or in its namespace's active region (forwarding.ts).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { Registry } from '../common/metrics.js';
import type { HistoryApi, NamespaceRef } from '../history/api.js';
import type { MatchingApi } from '../matching/api.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { assertActive, namespaceNotActive } from '../namespaces/active.js';
import type { Persistence } from '../persistence/store.js';
import type { FrontendConfig } from './config.js';
import { Forwarder, type IncomingCall } from './forwarding.js';
import { requireString } from './validation.js';

export interface FrontendDeps {
  persistence: Persistence;
  namespaces: NamespaceRegistry;
  history: HistoryApi;
  matching: MatchingApi;
  logger: Logger;
  registry: Registry;
  /** How this region reaches other regions' frontends (forwarding, remote cluster info); default plaintext. */
  links?: grpc.ChannelCredentials;
}

export interface CallContext {
  method: string;
  /** Its metadata, deadline and cancellation travel with the call when it is forwarded. */
  incoming: IncomingCall;
  /**
   * Aborts `marginMs` before the client's deadline, after at most capMs, on client cancellation,
   * or when the server stops: what long polls hand to history and matching.
   */
  longPoll(capMs: number): AbortSignal;
}

/**
 * How a call uses its namespace. 'write' and 'worker' calls must reach the active region ('write'
 * calls also wait out a handover there); 'read' calls go there too, so a caller on the standby
 * reads its own writes, but fall back to the standby's copy when that region cannot be reached.
 * This is Temporal's all-apis-forwarding: every namespace-scoped call is forwarded.
 */
export type NamespaceAccess = 'read' | 'worker' | 'write';

// Handlers take the decoded request class; each declares its own request type.
export type Handler = (req: any, call: CallContext) => Promise<object>;
export type Handlers = Record<string, Handler>;

type NamespacedRequest = { namespace?: string | null };

export class FrontendContext {
  private readonly forwarder: Forwarder;

  constructor(
    readonly config: FrontendConfig,
    readonly deps: FrontendDeps,
  ) {
    this.forwarder = new Forwarder(config, deps.namespaces.config.regions, deps.registry, deps.logger.child({ component: 'forwarding' }), deps.links);
  }

  get history(): HistoryApi {
    return this.deps.history;
  }

  get matching(): MatchingApi {
    return this.deps.matching;
  }

  get namespaces(): NamespaceRegistry {
    return this.deps.namespaces;
  }

  /**
   * Serves the call here when its namespace is active here (or it is a read that cannot be
   * forwarded); otherwise answers with the active region's answer, or NamespaceNotActive when
   * that region cannot be reached. A handover here is answered here: it is not forwarded.
   */
  serve(req: NamespacedRequest, call: CallContext, access: NamespaceAccess, local: (ns: NamespaceRef) => Promise<object>): Promise<object> {
    return this.route(req, call, access, this.config.forwardTimeoutMs, local);
  }

  /** serve() for a long poll held at most capMs: the local handler gets the poll's signal. */
  serveLongPoll(
    req: NamespacedRequest,
    call: CallContext,
    access: NamespaceAccess,
    capMs: number,
    local: (ns: NamespaceRef, signal: AbortSignal) => Promise<object>,
  ): Promise<object> {
    // The remote frontend answers at the same cap (or the caller's deadline); the margin lets its answer come back.
    return this.route(req, call, access, capMs + this.config.longPollMarginMs, (ns) => local(ns, call.longPoll(capMs)));
  }

  /** Closes the channels to other regions' frontends. */
  close(): void {
    this.forwarder.close();
  }

  private async route(
    req: NamespacedRequest,
    call: CallContext,
    access: NamespaceAccess,
    forwardCapMs: number,
    local: (ns: NamespaceRef) => Promise<object>,
  ): Promise<object> {
    const rec = await this.deps.namespaces.requireByName(requireString(req.namespace, 'Namespace', this.config));
    const ns = { id: rec.id, name: rec.name };
    if (rec.activeRegion === this.config.region) {
      if (access !== 'read') assertActive(rec, this.config.region, access);
      return local(ns);
    }
    const answer = await this.forwarder.forward(rec.activeRegion, call.incoming, req, forwardCapMs);
    if (answer) return answer;
    if (access === 'read') return local(ns);
    throw namespaceNotActive(rec, this.config.region);
  }
}
