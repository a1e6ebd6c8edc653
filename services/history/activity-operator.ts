// The operator's activity verbs (PauseActivity, UnpauseActivity, ResetActivity,
// UpdateActivityOptions), as the reference server has them. They change only the activity's
// non-event state (its attempt, the options it runs with), which replication ships beside the
// events (NonEventState), so a paused activity stays paused after a failover, and new options
// hold there too. A paused activity is not dispatched; a running one learns of the pause, or of a
// reset, from its next heartbeat's answer (the SDK cancels it with "paused" or "reset" details):
// paused, it waits, not retried, until unpaused; reset, it counts as attempt 1.
import { apiError } from '../common/errors.js';
import { msFromDuration, type TimestampLike } from '../common/proto-time.js';
import type { workflowservice as ws } from '../common/temporal.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import type { MutableState } from './mutable-state.js';
import type { ActivityInfo, ActivityOptionsInfo } from './state.js';
import { activityOptions, fieldPath, mergeOptions, optionsToProto } from './activity-options.js';
import { retryIntervalMs } from './retry-policy.js';
import { activityAttemptTasks, activityRetimedTasks } from './task-generator.js';

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

/**
 * The options the activity runs with from now on (null: its scheduled event's). An attempt waiting
 * for its retry waits as long as the new policy says after the failed one.
 */
function setOptions(act: ActivityInfo, options: ActivityOptionsInfo | null): void {
  const policyBefore = activityOptions(act).retryPolicy;
  act.progress.options = options;
  const p = act.progress;
  const policy = activityOptions(act).retryPolicy;
  if (p.started || p.attempt === 1 || !p.lastAttemptCompleteTimeMs || !policy || JSON.stringify(policy) === JSON.stringify(policyBefore)) return;
  p.currentAttemptScheduledTimeMs = p.lastAttemptCompleteTimeMs + Math.round(retryIntervalMs(policy, p.attempt - 1));
}

/** The current attempt's timers, and its dispatch when it waits for one, under the options it runs with now. */
function retime(ms: MutableState, act: ActivityInfo): void {
  for (const t of activityRetimedTasks(ms, act.scheduledEventId)) ms.addTask(t);
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
        if (act.progress.started) continue;
        // As UpdateActivityOptions: the reference schedules the waiting attempt again without the
        // failure that led to it, so the next attempt's started event carries no lastFailure.
        act.progress.lastFailure = null;
        dispatchSoon(ms, act, now, req.jitter);
      }
    });
  }

  async reset(ns: NamespaceRef, req: ws.IResetActivityRequest): Promise<void> {
    await this.update(ns, req.execution, (ms, now) => {
      for (const act of select(ms, { id: req.id, type: req.type, all: req.matchAll })) {
        if (req.restoreOriginalOptions) setOptions(act, null);
        // A running attempt is told, and counts as attempt 1 once it ends (activity-handler.ts).
        if (act.progress.started) act.progress.reset = { heartbeat: Boolean(req.resetHeartbeat) };
        else resetAttempt(act, { attempts: true, heartbeat: Boolean(req.resetHeartbeat) });
        if (!req.keepPaused) act.progress.paused = null;
        if (!act.progress.started && !act.progress.paused) dispatchSoon(ms, act, now, req.jitter);
        else if (req.restoreOriginalOptions) retime(ms, act);
      }
    });
  }

  /**
   * UpdateActivityOptions: the options named by the field mask, or those of the scheduled event
   * (restore_original), for each activity named; answers the options of the last one, as the
   * reference. The current attempt runs under them at once: its timers move, and a waiting one is
   * dispatched again (to its new queue).
   */
  async updateOptions(ns: NamespaceRef, req: ws.IUpdateActivityOptionsRequest): Promise<ws.IUpdateActivityOptionsResponse> {
    const paths = new Set((req.updateMask?.paths ?? []).map(fieldPath));
    if (req.restoreOriginal && paths.size > 0) throw apiError('INVALID_ARGUMENT', 'Both UpdateMask and RestoreOriginal are provided');
    let options: ActivityOptionsInfo | undefined;
    await this.update(ns, req.execution, (ms, now) => {
      if (!req.restoreOriginal && !req.activityOptions) throw apiError('INVALID_ARGUMENT', 'ActivityOptions are not provided');
      const activities = select(ms, { id: req.id, type: req.type, all: req.matchAll });
      if (!req.restoreOriginal && !req.updateMask) throw apiError('INVALID_ARGUMENT', 'UpdateMask is not provided');
      for (const act of activities) {
        // The reference schedules a retry waiting out its backoff again, without the failure that
        // led to it (RetryActivity with none): the next attempt's started event carries no lastFailure.
        const p = act.progress;
        if (!p.started && !p.paused && p.currentAttemptScheduledTimeMs > now) p.lastFailure = null;
        setOptions(act, req.restoreOriginal ? null : mergeOptions(act, req.activityOptions!, paths, ms.info.taskQueue));
        options = activityOptions(act);
        retime(ms, act);
      }
    });
    return { activityOptions: optionsToProto(options!) };
  }
}
