// One proxied call (DESIGN invariant 9): pick the region from the namespace's route, send the
// caller's bytes there with its metadata and deadline, and bring back what the region answered.
// Through a failover the call is held, not failed: a route marked switching is waited out, and
// UNAVAILABLE or NamespaceNotActive re-reads the route at once and tries again, for at most
// holdMs and never past the caller's deadline. A long poll keeps its deadline: it follows a route
// change while it waits, and when the regions give it nothing before its deadline it gets the
// empty answer a region gives a poll that found nothing, so the SDK simply polls again.
import * as grpc from '@grpc/grpc-js';
import { apiError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { counter } from '../common/metrics.js';
import type { RouteRecord } from '../routes/route.js';
import type { RouterConfig } from './config.js';
import type { ProxiedMethod } from './proxied-methods.js';
import { rerouteReason } from './reroute.js';
import type { RouteCache } from './route-cache.js';
import type { Attempt, Upstreams } from './upstreams.js';

export interface Outcome extends Attempt {
  /** The region that gave the answer ('none' when no region was tried). */
  region: string;
}

export interface ProxyDeps {
  config: RouterConfig;
  cache: RouteCache;
  upstreams: Upstreams;
  reroutes: ReturnType<typeof counter>;
  /** Aborted when the router stops: long polls are answered empty at once. */
  stopping: AbortSignal;
  log: Logger;
}

type IncomingCall = Pick<grpc.ServerUnaryCall<Buffer, Buffer>, 'request' | 'metadata' | 'getDeadline' | 'once' | 'off'>;

/** Codes with which a long poll that got nothing from the regions is answered empty instead. */
const CUT_SHORT = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

function failed(code: 'UNAVAILABLE', what: string): Outcome {
  const e = apiError(code, what);
  return { region: 'none', status: { code: e.grpcStatus, details: e.message, metadata: new grpc.Metadata() } };
}

function sameRoute(a: RouteRecord | undefined, b: RouteRecord): boolean {
  return a !== undefined && a.endpoint === b.endpoint && a.epoch === b.epoch && a.switching === b.switching;
}

export class RoutingProxy {
  constructor(private readonly deps: ProxyDeps) {}

  async run(method: ProxiedMethod, call: IncomingCall): Promise<Outcome> {
    const { config, cache } = this.deps;
    const { namespace, longPoll, emptyAnswer } = method.read(call.request);
    const callerDeadline = call.getDeadline();
    const deadline = (callerDeadline instanceof Date ? callerDeadline.getTime() : callerDeadline) - (longPoll ? config.longPollMarginMs : 0);
    // A long poll may wait for a new route until its deadline; other calls (and a long poll
    // without a deadline) for holdMs from their first trouble.
    let holdUntil: number | undefined;
    const patience = () => (holdUntil ??= longPoll && Number.isFinite(deadline) ? deadline : Math.min(deadline, Date.now() + config.holdMs));

    const gone = new AbortController();
    const abort = () => gone.abort();
    call.once('cancelled', abort);
    if (longPoll) this.deps.stopping.addEventListener('abort', abort, { once: true });
    const metadata = call.metadata.clone();
    try {
      let route: RouteRecord | undefined;
      try {
        route = await cache.route(namespace);
      } catch (err) {
        return failed('UNAVAILABLE', `the route registry cannot be read: ${(err as Error).message}`);
      }
      let backoffMs = config.retryBackoffMs;
      for (;;) {
        if (!route) return failed('UNAVAILABLE', `no route for namespace ${JSON.stringify(namespace)} and no default route`);
        if (route.switching) route = await this.waitOutSwitch(namespace, route, patience(), gone.signal);
        const { attempt, moved } = await this.attempt(method, call.request, metadata, deadline, namespace, route, longPoll, gone.signal);
        const outcome: Outcome = { region: route.region, ...attempt };
        const reason = moved ? 'route_changed' : rerouteReason(attempt.status);
        if (!reason || gone.signal.aborted || Date.now() >= patience()) {
          return longPoll && CUT_SHORT.has(attempt.status.code) ? { region: route.region, status: { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() }, response: emptyAnswer() } : outcome;
        }
        this.deps.reroutes.inc({ reason });
        const next = await cache.route(namespace, true).catch(() => route);
        if (!moved && sameRoute(next, route)) {
          // Nowhere else to go yet: wait for the route to change (the controller is at work), then look again.
          await cache.changed(Math.min(backoffMs, patience() - Date.now()), gone.signal);
          backoffMs = Math.min(2 * backoffMs, config.maxRetryBackoffMs);
          route = await cache.route(namespace, true).catch(() => route);
        } else {
          route = next;
        }
      }
    } finally {
      call.off('cancelled', abort);
      this.deps.stopping.removeEventListener('abort', abort);
    }
  }

  /** Holds the call while its route is marked switching, up to `until`; returns the route to use. */
  private async waitOutSwitch(namespace: string, route: RouteRecord, until: number, signal: AbortSignal): Promise<RouteRecord> {
    let current = route;
    while (current.switching && Date.now() < until && !signal.aborted) {
      await this.deps.cache.changed(until - Date.now(), signal);
      current = (await this.deps.cache.route(namespace, true).catch(() => current)) ?? current;
    }
    // A switch that outlasts the hold: the call goes where the record points, and that region answers.
    return current;
  }

  /** One try at `route`; a long poll is cut (moved) when its namespace's route moves while it waits. */
  private async attempt(
    method: ProxiedMethod,
    request: Buffer,
    metadata: grpc.Metadata,
    deadline: number,
    namespace: string,
    route: RouteRecord,
    longPoll: boolean,
    gone: AbortSignal,
  ): Promise<{ attempt: Attempt; moved: boolean }> {
    const cut = new AbortController();
    const cancel = () => cut.abort();
    gone.addEventListener('abort', cancel, { once: true });
    let moved = false;
    const unsubscribe = longPoll
      ? this.deps.cache.onChange((r) => {
          const newer = route.namespace !== namespace || r.epoch > route.epoch;
          if (r.namespace === namespace && newer && r.endpoint !== route.endpoint) {
            moved = true;
            cut.abort();
          }
        })
      : () => {};
    try {
      const attempt = await this.deps.upstreams.call(route.endpoint, method.path, request, metadata, deadline, cut.signal);
      // A move heard after the region had answered changes nothing: its answer stands.
      return { attempt, moved: moved && attempt.status.code === grpc.status.CANCELLED };
    } finally {
      unsubscribe();
      gone.removeEventListener('abort', cancel);
    }
  }
}
