// The operator's activity verbs (PauseActivity, UnpauseActivity, ResetActivity), as the reference
// server has them. They change only the attempt's state, which no event records and replication
// ships beside the events (NonEventState), so a paused activity stays paused after a failover. A
// paused activity is not dispatched; a running one learns of the pause from its next heartbeat's
// answer (the SDK cancels it with "paused" details) and waits, not retried, until unpaused.
import { apiError } from '../common/errors.js';
import { msFromDuration, type TimestampLike } from '../common/proto-time.js';
import type { workflowservice as ws } from '../common/temporal.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import type { MutableState } from './mutable-state.js';
import type { ActivityInfo } from './state.js';
import { activityAttemptTasks } from './task-generator.js';

/** Which pending activities a request names: by id, by type, or all of them. */
interface Selector {
  id?: string | null;
  type?: string | null;
  all?: boolean | null;
}

function select(ms: MutableState, s: Selector): ActivityInfo[] {
  const matches = ms.data.activities.filter((a) => (s.all ? true : s.id ? a.activityId === s.id : s.type ? a.activityType === s.type : false));
  if (!s.all && !s.id && !s.type) throw apiError('INVALID_ARGUMENT', 'Either the activity id, its type or all of them must be named.');
  if (matches.length === 0) throw apiError('NOT_FOUND', `No pending activity ${s.id ? `with id ${s.id}` : s.type ? `of type ${s.type}` : ''} in the workflow.`);
  return matches;
}

/** The next attempt, dispatched after `jitter` (a random part of it, as the reference). */
function dispatchSoon(ms: MutableState, act: ActivityInfo, now: number, jitter: TimestampLike | null | undefined): void {
  const at = now + Math.floor(Math.random() * msFromDuration(jitter));
  act.progress.currentAttemptScheduledTimeMs = at;
  for (const t of activityAttemptTasks(ms, act.scheduledEventId)) ms.addTask(t);
}

/**
 * Back to attempt 1 and/or no heartbeat details. A running attempt keeps its number: its worker's
 * answer names it, and must still be taken; its outcome decides what follows.
 */
function resetAttempt(act: ActivityInfo, what: { attempts: boolean; heartbeat: boolean }): void {
  if (what.heartbeat) act.progress.heartbeatDetails = null;
  if (!what.attempts || act.progress.started) return;
  act.progress.attempt = 1;
  act.progress.lastFailure = null;
}

export class ActivityOperator {
  constructor(private readonly ctx: HistoryContext) {}

  private update(ns: NamespaceRef, execution: { workflowId?: string | null; runId?: string | null } | null | undefined, fn: (ms: MutableState, now: number) => void): Promise<void> {
    return this.ctx.tx.update(ns.id, execution?.workflowId ?? '', execution?.runId ?? '', (ms) => {
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      fn(ms, Date.now());
      ms.dirty = true;
    });
  }

  async pause(ns: NamespaceRef, req: ws.IPauseActivityRequest): Promise<void> {
    await this.update(ns, req.execution, (ms, now) => {
      for (const act of select(ms, { id: req.id, type: req.type })) {
        act.progress.paused ??= { timeMs: now, identity: req.identity ?? '', reason: req.reason ?? '' };
      }
    });
  }

  async unpause(ns: NamespaceRef, req: ws.IUnpauseActivityRequest): Promise<void> {
    await this.update(ns, req.execution, (ms, now) => {
      for (const act of select(ms, { id: req.id, type: req.type, all: req.unpauseAll })) {
        if (!act.progress.paused) continue;
        act.progress.paused = null;
        resetAttempt(act, { attempts: Boolean(req.resetAttempts), heartbeat: Boolean(req.resetHeartbeat) });
        if (!act.progress.started) dispatchSoon(ms, act, now, req.jitter);
      }
    });
  }

  async reset(ns: NamespaceRef, req: ws.IResetActivityRequest): Promise<void> {
    await this.update(ns, req.execution, (ms, now) => {
      for (const act of select(ms, { id: req.id, type: req.type, all: req.matchAll })) {
        resetAttempt(act, { attempts: true, heartbeat: Boolean(req.resetHeartbeat) });
        if (!req.keepPaused) act.progress.paused = null;
        if (!act.progress.started && !act.progress.paused) dispatchSoon(ms, act, now, req.jitter);
      }
    });
  }
}
