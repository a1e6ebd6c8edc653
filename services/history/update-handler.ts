// Workflow Update: admission, delivery to the worker as protocol messages, the worker's
// Acceptance / Rejection / Response, and callers waiting for a lifecycle stage.
import { apiError } from '../common/errors.js';
import { enums, protocolv1, updatev1, workflowservice as ws, failure as failurev1 } from '../common/temporal.js';
import { toLong } from '../common/proto-time.js';
import type { AddTaskRequest } from '../matching/api.js';
import type { ExecutionKey } from '../persistence/types.js';
import type { NamespaceRef } from './api.js';
import type { HistoryContext } from './context.js';
import type { MutableState } from './mutable-state.js';
import { UpdateRegistry } from './update-registry.js';
import { workflowTaskFor } from './matching-tasks.js';

const ET = enums.EventType;
const Stage = enums.UpdateWorkflowExecutionLifecycleStage;
const TYPE_PREFIX = 'type.googleapis.com/';

/**
 * The outcome of an accepted update whose run closed before the worker completed it. As the
 * reference does, it is an update failure, not an error: a caller that saw the update accepted
 * expects an outcome, and handles update failures anyway.
 */
export const acceptedUpdateCompletedWorkflowFailure: failurev1.IFailure = {
  message: 'Workflow Update failed because the Workflow completed before the Update completed.',
  source: 'Server',
  applicationFailureInfo: { type: 'AcceptedUpdateCompletedWorkflow', nonRetryable: true },
};

/** How often a waiting caller makes sure a workflow task will deliver its update. */
const REDELIVER_CHECK_MS = 2_000;

export interface MessageEffects {
  /** Rejections to publish once the write committed. */
  rejections: { updateId: string; failure: failurev1.IFailure }[];
  accepted: string[];
}

function anyOf(typeName: string, bytes: Uint8Array): { type_url: string; value: Uint8Array } {
  return { type_url: TYPE_PREFIX + typeName, value: bytes };
}

export class UpdateHandler {
  readonly registry = new UpdateRegistry();

  constructor(private readonly ctx: HistoryContext) {}

  /** Protocol messages carrying every update this workflow task must deliver. */
  messagesFor(ms: MutableState, startedEventId: number): protocolv1.IMessage[] {
    return this.registry.pending(ms.key).map((u) => ({
      id: `${u.updateId}/request`,
      protocolInstanceId: u.updateId,
      eventId: toLong(BigInt(startedEventId - 1)),
      body: anyOf('temporal.api.update.v1.Request', updatev1.Request.encode(u.request).finish()),
    }));
  }

  /** True when a completion only rejects updates: a speculative task can then vanish. */
  onlyRejections(messages: protocolv1.IMessage[]): boolean {
    return messages.every((m) => m.body?.type_url === TYPE_PREFIX + 'temporal.api.update.v1.Rejection');
  }

  /** Applies one message of the worker: acceptance and response become events. */
  applyMessage(ms: MutableState, m: protocolv1.IMessage, now: number, effects: MessageEffects): void {
    const typeUrl = m.body?.type_url ?? '';
    const value = m.body?.value ?? new Uint8Array();
    const typeName = typeUrl.startsWith(TYPE_PREFIX) ? typeUrl.slice(TYPE_PREFIX.length) : typeUrl;
    switch (typeName) {
      case 'temporal.api.update.v1.Acceptance': {
        const a = updatev1.Acceptance.decode(value);
        const updateId = m.protocolInstanceId || a.acceptedRequest?.meta?.updateId || '';
        const admitted = this.registry.get(ms.key, updateId);
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
          {
            workflowExecutionUpdateAcceptedEventAttributes: {
              protocolInstanceId: updateId,
              acceptedRequestMessageId: a.acceptedRequestMessageId,
              acceptedRequestSequencingEventId: a.acceptedRequestSequencingEventId,
              acceptedRequest: a.acceptedRequest?.meta ? a.acceptedRequest : admitted?.request,
            },
          },
          now,
        );
        effects.accepted.push(updateId);
        return;
      }
      case 'temporal.api.update.v1.Response': {
        const r = updatev1.Response.decode(value);
        const updateId = r.meta?.updateId || m.protocolInstanceId || '';
        const u = ms.update(updateId);
        if (!u || u.stage !== 'accepted') {
          throw apiError('INVALID_ARGUMENT', `Update ${updateId} was not accepted; it cannot complete.`);
        }
        ms.addEvent(
          ET.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
          {
            workflowExecutionUpdateCompletedEventAttributes: {
              meta: r.meta,
              acceptedEventId: toLong(BigInt(u.acceptedEventId)),
              outcome: r.outcome,
            },
          },
          now,
        );
        return;
      }
      case 'temporal.api.update.v1.Rejection': {
        const r = updatev1.Rejection.decode(value);
        const updateId = m.protocolInstanceId || r.rejectedRequest?.meta?.updateId || '';
        effects.rejections.push({ updateId, failure: r.failure ?? { message: 'update rejected' } });
        return;
      }
      default:
        throw apiError('INVALID_ARGUMENT', `Unknown protocol message body type ${typeUrl}.`);
    }
  }

  /** Publishes what a committed completion decided. */
  publish(key: ExecutionKey, effects: MessageEffects): void {
    for (const id of effects.accepted) this.registry.accepted(key, id);
    for (const r of effects.rejections) this.registry.rejected(key, r.updateId, r.failure);
    if (effects.accepted.length + effects.rejections.length > 0) this.ctx.notifier.notify(key.namespaceId, key.workflowId);
  }

  /**
   * Makes sure a workflow task will carry the pending updates: a pending task does; otherwise a
   * speculative one is created. Returns the matching task to add once the lock is released.
   */
  ensureTask(ms: MutableState, now: number): AddTaskRequest | null {
    if (!ms.isRunning || ms.hasPendingWorkflowTask || this.registry.pending(ms.key).length === 0) return null;
    if (ms.info.state === 'created' && ms.info.executionTimeMs > now && ms.info.lastCompletedWorkflowTaskStartedEventId === 0) return null;
    // A speculative task has no persisted schedule-to-start timeout: use the sticky queue only
    // while its worker polls.
    const sticky =
      ms.progress.stickyTaskQueue &&
      this.ctx.matching.hasRecentPoller({ namespaceId: ms.info.namespaceId, name: ms.progress.stickyTaskQueue, type: 1, kind: 2 })
        ? ms.progress.stickyTaskQueue
        : '';
    ms.speculative = {
      scheduledEventId: ms.info.nextEventId,
      startedEventId: 0,
      scheduledTimeMs: now,
      startedTimeMs: 0,
      taskQueue: sticky || ms.info.taskQueue,
      kind: sticky ? 2 : 1,
      startToCloseMs: ms.info.workflowTaskTimeoutMs,
      identity: '',
      requestId: '',
    };
    return workflowTaskFor(ms, ms.speculative, 0);
  }

  async dispatch(task: AddTaskRequest | null): Promise<void> {
    if (!task) return;
    try {
      await this.ctx.matching.addWorkflowTask(task);
    } catch (err) {
      // The waiting caller re-checks delivery every few seconds and converts the task then.
      this.ctx.log.warn({ err, workflowId: task.workflowId }, 'could not add the speculative workflow task');
    }
  }

  async update(ns: NamespaceRef, req: ws.IUpdateWorkflowExecutionRequest, signal: AbortSignal): Promise<ws.IUpdateWorkflowExecutionResponse> {
    const request = req.request ?? {};
    const updateId = request.meta?.updateId ?? '';
    if (!updateId) throw apiError('REQUIRED', 'Request.Meta.UpdateId');
    if (!request.input?.name) throw apiError('REQUIRED', 'Request.Input.Name');
    const workflowId = req.workflowExecution?.workflowId ?? '';
    let task: AddTaskRequest | null = null;
    const runId = await this.ctx.tx.update(ns.id, workflowId, req.workflowExecution?.runId ?? '', (ms) => {
      if (req.firstExecutionRunId && req.firstExecutionRunId !== ms.info.firstRunId) throw apiError('WORKFLOW_NOT_FOUND', workflowId);
      if (ms.update(updateId)) return ms.info.runId;
      if (!ms.isRunning) throw apiError('WORKFLOW_ALREADY_COMPLETED');
      this.registry.admit(ms.key, request);
      task = this.ensureTask(ms, Date.now());
      return ms.info.runId;
    });
    await this.dispatch(task);
    const wanted = req.waitPolicy?.lifecycleStage || Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
    const res = await this.wait(ns, { namespaceId: ns.id, workflowId, runId }, updateId, wanted, signal);
    // Sync namespace: what the caller is told (acceptance, outcome) must be replicated first.
    await this.ctx.tx.awaitStandbys(ns.id, workflowId);
    return res;
  }

  async poll(ns: NamespaceRef, req: ws.IPollWorkflowExecutionUpdateRequest, signal: AbortSignal): Promise<ws.IPollWorkflowExecutionUpdateResponse> {
    const ref = req.updateRef;
    const updateId = ref?.updateId ?? '';
    if (!updateId) throw apiError('REQUIRED', 'UpdateRef.UpdateId');
    const ms = await this.ctx.tx.read(ns.id, ref?.workflowExecution?.workflowId ?? '', ref?.workflowExecution?.runId ?? '');
    if (!ms.update(updateId) && !this.registry.get(ms.key, updateId)) {
      throw apiError('TASK_NOT_FOUND', `update ${updateId} not found`);
    }
    const wanted = req.waitPolicy?.lifecycleStage || Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;
    const res = await this.wait(ns, ms.key, updateId, wanted, signal);
    await this.ctx.tx.awaitStandbys(ns.id, ms.key.workflowId);
    return { outcome: res.outcome, stage: res.stage, updateRef: res.updateRef };
  }

  /** Resolves when the update reaches `wanted`, or with the stage it reached when `signal` aborts. */
  private async wait(
    ns: NamespaceRef,
    key: ExecutionKey,
    updateId: string,
    wanted: number,
    signal: AbortSignal,
  ): Promise<ws.IUpdateWorkflowExecutionResponse> {
    const updateRef = { workflowExecution: { workflowId: key.workflowId, runId: key.runId }, updateId };
    for (;;) {
      const sub = this.ctx.notifier.subscribe(key.namespaceId, key.workflowId);
      try {
        const ms = await this.ctx.tx.read(key.namespaceId, key.workflowId, key.runId);
        const done = ms.update(updateId);
        if (done?.stage === 'completed') {
          const event = await this.ctx.tx.readEvent(ms, done.completedEventId);
          return {
            updateRef,
            stage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
            outcome: event?.workflowExecutionUpdateCompletedEventAttributes?.outcome,
          };
        }
        if (done && !ms.isRunning) {
          return { updateRef, stage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, outcome: { failure: acceptedUpdateCompletedWorkflowFailure } };
        }
        const admitted = this.registry.get(key, updateId);
        if (admitted?.rejection) {
          return { updateRef, stage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, outcome: { failure: admitted.rejection } };
        }
        const stage = done ? Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED : Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
        if (stage >= wanted) return { updateRef, stage };
        if (!ms.isRunning) {
          this.registry.dropRun(key);
          throw apiError('UPDATE_ABORTED_BY_CLOSE');
        }
        if (signal.aborted) return { updateRef, stage };
        const timeout = AbortSignal.any([signal, AbortSignal.timeout(REDELIVER_CHECK_MS)]);
        const woke = await sub.wait(timeout);
        if (!woke && !signal.aborted && !done) await this.redeliver(ns, key);
      } finally {
        sub.cancel();
      }
    }
  }

  /** A caller still waits for acceptance but no task carries its update (the cache was reloaded). */
  private async redeliver(ns: NamespaceRef, key: ExecutionKey): Promise<void> {
    let task: AddTaskRequest | null = null;
    await this.ctx.tx.update(ns.id, key.workflowId, key.runId, (ms) => {
      task = this.ensureTask(ms, Date.now());
    });
    await this.dispatch(task);
  }
}

