// Workflow Updates that are admitted but not yet accepted live here, in memory, like Temporal's
// update registry: nothing is written for an update until a worker accepts it, so a rejected
// update leaves no trace in history. Accepted and completed updates are history events.
import { updatev1, failure as failurev1 } from '../common/temporal.js';
import type { ExecutionKey } from '../persistence/types.js';
import { executionCacheKey } from './shard.js';

export interface AdmittedUpdate {
  updateId: string;
  request: updatev1.IRequest;
  rejection: failurev1.IFailure | null;
  rejectedAtMs: number;
}

/** How long a rejection is remembered for callers that poll for the outcome. */
const REJECTION_TTL_MS = 60_000;

export class UpdateRegistry {
  private readonly byRun = new Map<string, Map<string, AdmittedUpdate>>();

  private run(key: ExecutionKey, create: boolean): Map<string, AdmittedUpdate> | undefined {
    const k = executionCacheKey(key);
    let m = this.byRun.get(k);
    if (!m && create) this.byRun.set(k, (m = new Map()));
    return m;
  }

  get(key: ExecutionKey, updateId: string): AdmittedUpdate | undefined {
    return this.run(key, false)?.get(updateId);
  }

  admit(key: ExecutionKey, request: updatev1.IRequest): AdmittedUpdate {
    const updateId = request.meta?.updateId ?? '';
    const existing = this.get(key, updateId);
    if (existing && !existing.rejection) return existing;
    const u: AdmittedUpdate = { updateId, request, rejection: null, rejectedAtMs: 0 };
    this.run(key, true)!.set(updateId, u);
    return u;
  }

  /** Updates a workflow task must still deliver to the worker. */
  pending(key: ExecutionKey): AdmittedUpdate[] {
    const m = this.run(key, false);
    if (!m) return [];
    const now = Date.now();
    const out: AdmittedUpdate[] = [];
    for (const [id, u] of m) {
      if (u.rejection) {
        if (now - u.rejectedAtMs > REJECTION_TTL_MS) m.delete(id);
        continue;
      }
      out.push(u);
    }
    if (m.size === 0) this.byRun.delete(executionCacheKey(key));
    return out;
  }

  /** Accepted: from now on the update lives in history. */
  accepted(key: ExecutionKey, updateId: string): void {
    const m = this.run(key, false);
    m?.delete(updateId);
    if (m && m.size === 0) this.byRun.delete(executionCacheKey(key));
  }

  rejected(key: ExecutionKey, updateId: string, failure: failurev1.IFailure): void {
    const u = this.get(key, updateId);
    if (!u) return;
    u.rejection = failure;
    u.rejectedAtMs = Date.now();
  }

  /** The run closed: updates it never accepted cannot be delivered any more. */
  dropRun(key: ExecutionKey): void {
    this.byRun.delete(executionCacheKey(key));
  }
}
