// What the frontend asks of every call before its handler runs, and tells after: with auth on,
// who is calling (authorizer.ts) and whether they may (methods.ts); in any case whether the
// namespace (and the key) are within their rate limits; and, for the calls worth an audit trail
// (management, failovers, terminations, namespace changes), an entry in this region's audit log.
import type * as grpc from '@grpc/grpc-js';
import { apiErrorWithDetails, isTandemError, type TandemError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { counter, type Registry } from '../common/metrics.js';
import type { AuthAuditEntry, IdentityStore } from '../persistence/identity-store.js';
import { Authorizer, type AuthorizerConfig, type Principal } from './authorizer.js';
import type { IdentityDirectory } from './directory.js';
import { accessOf } from './methods.js';
import { bucketsFor, type RateLimitConfig, type TokenBuckets } from './rate-limiter.js';

export interface GateConfig extends RateLimitConfig, AuthorizerConfig {
  /** Off: every call is let through as `anonymous` (make dev's default). */
  authEnabled: boolean;
}

/** Calls written to the audit log, whatever their outcome. */
const AUDITED = new Set([
  'RegisterNamespace',
  'UpdateNamespace',
  'DeprecateNamespace',
  'DeleteNamespace',
  'TerminateWorkflowExecution',
  'DeleteWorkflowExecution',
  'ResetWorkflowExecution',
  'AddSearchAttributes',
  'RemoveSearchAttributes',
  'AddOrUpdateRemoteCluster',
  'RemoveRemoteCluster',
  'FailoverNamespace',
  'CreateUser',
  'UpdateUser',
  'DeleteUser',
  'CreateApiKey',
  'SetApiKeyDisabled',
  'DeleteApiKey',
]);

// temporal.api.enums.v1: RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT, RESOURCE_EXHAUSTED_SCOPE_NAMESPACE.
const CAUSE_RPS_LIMIT = 1;
const SCOPE_NAMESPACE = 1;

export interface Admission {
  method: string;
  principal?: Principal;
  target: string;
}

type Request = {
  namespace?: unknown;
  workflowExecution?: { workflowId?: unknown } | null;
  name?: unknown;
  id?: unknown;
  owner?: unknown;
  user?: { name?: unknown } | null;
};

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** What an audited call acted on: namespace/workflow, a user or a key. */
function targetOf(req: Request): string {
  const ns = str(req.namespace);
  const wf = str(req.workflowExecution?.workflowId);
  const subject = wf || str(req.name) || str(req.id) || str(req.owner) || str(req.user?.name);
  return ns && subject ? `${ns}/${subject}` : ns || subject;
}

export class CallGate {
  private readonly authorizer: Authorizer;
  private readonly namespaceBuckets: TokenBuckets;
  private readonly keyBuckets: TokenBuckets;
  private readonly decisions: ReturnType<typeof counter>;
  private readonly limited: ReturnType<typeof counter>;
  private readonly audit: IdentityStore;

  constructor(
    readonly config: GateConfig,
    directory: IdentityDirectory,
    private readonly log: Logger,
    registry: Registry,
    now: () => number = Date.now,
  ) {
    this.authorizer = new Authorizer(directory, config, now);
    this.audit = directory.store;
    this.namespaceBuckets = bucketsFor(config.namespaceRps, config, now);
    this.keyBuckets = bucketsFor(config.keyRps, config, now);
    this.decisions = counter(registry, 'tandem_auth_decisions_total', 'Calls checked by the frontend with auth on, by outcome', ['outcome']);
    this.limited = counter(registry, 'tandem_rate_limited_requests_total', 'Calls refused for a rate limit, by scope', ['scope']);
  }

  /** Throws UNAUTHENTICATED, PERMISSION_DENIED or RATE_LIMITED; otherwise the call may run. */
  async admit(path: string, metadata: grpc.Metadata, request: object): Promise<Admission> {
    const method = path.slice(path.lastIndexOf('/') + 1);
    const req = request as Request;
    const namespace = str(req.namespace);
    const admission: Admission = { method, target: AUDITED.has(method) ? targetOf(req) : '' };
    const access = accessOf(path);
    if (access === 'internal') return admission;
    if (this.config.authEnabled) {
      try {
        const header = metadata.get('authorization')[0];
        admission.principal = await this.authorizer.authenticate(typeof header === 'string' ? header : undefined);
        this.authorizer.authorize(admission.principal, access, namespace, method);
      } catch (err) {
        const outcome = isTandemError(err, 'PERMISSION_DENIED') ? 'denied' : isTandemError(err, 'UNAUTHENTICATED') ? 'unauthenticated' : 'error';
        this.decisions.inc({ outcome });
        if (outcome === 'denied') this.settle(admission, err);
        throw err;
      }
      this.decisions.inc({ outcome: 'ok' });
    }
    this.limit('namespace', namespace, this.namespaceBuckets);
    if (admission.principal) this.limit('key', admission.principal.keyId, this.keyBuckets);
    return admission;
  }

  /** After the call: its audit entry when it is audited (written in the background; a failed write is logged). */
  settle(admission: Admission, err: unknown): void {
    if (!AUDITED.has(admission.method)) return;
    const outcome: AuthAuditEntry['outcome'] = err === null ? 'ok' : isTandemError(err, 'PERMISSION_DENIED') ? 'denied' : 'failed';
    const entry: AuthAuditEntry = {
      atMs: Date.now(),
      identity: admission.principal?.identity ?? 'anonymous',
      action: admission.method,
      target: admission.target,
      outcome,
      message: err === null ? '' : err instanceof Error ? err.message.slice(0, 500) : String(err),
    };
    this.audit.appendAuthAudit(entry).catch((e: unknown) => this.log.warn({ err: e, entry }, 'auth audit entry not written'));
  }

  private limit(scope: 'namespace' | 'key', name: string, buckets: TokenBuckets): void {
    if (!name) return;
    const waitMs = buckets.take(name);
    if (waitMs === 0) return;
    this.limited.inc({ scope });
    const what = scope === 'namespace' ? `namespace ${name}` : `API key ${name}`;
    throw rateLimited(what, buckets.rps, waitMs, scope === 'namespace' ? SCOPE_NAMESPACE : 0);
  }
}

function rateLimited(what: string, rps: number, waitMs: number, scope: number): TandemError {
  const detail = { typeName: 'temporal.api.errordetails.v1.ResourceExhaustedFailure', value: { cause: CAUSE_RPS_LIMIT, scope } };
  return apiErrorWithDetails('RATE_LIMITED', [detail], what, rps, waitMs);
}
