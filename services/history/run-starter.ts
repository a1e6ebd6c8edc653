// Creating runs: a client's start request, a child, and the run that follows a closed one
// (continue-as-new, retry, cron), which is written in the same batch as the close.
import { randomUUID } from 'node:crypto';
import { enums, commonv1, workflowservice as ws, failure as failurev1, type sdkv1, type workflowv1 } from '../common/temporal.js';
import { durationFromMs, optionalDurationMs, timestampFromMs, toLong } from '../common/proto-time.js';
import { nextCronDelayMs } from './cron.js';
import { MutableState } from './mutable-state.js';
import { decodeB64 } from './payload-codec.js';
import { retryDecision, retryPolicyWithDefaults, type RetryDecision } from './retry-policy.js';
import { newRunId } from './shard.js';
import type { ParentInfo } from './state.js';
import type { Transactions } from './transaction.js';
import type { WorkflowTaskScheduler } from './workflow-task-scheduler.js';

const ET = enums.EventType;

/** Everything needed to create a run: the start request of a client, a child or a continue-as-new. */
export interface StartParams {
  requestId: string;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input?: commonv1.IPayloads | null;
  header?: commonv1.IHeader | null;
  workflowExecutionTimeoutMs: number;
  workflowRunTimeoutMs: number;
  workflowTaskTimeoutMs: number;
  identity: string;
  retryPolicy?: commonv1.IRetryPolicy | null;
  cronSchedule?: string;
  memo?: commonv1.IMemo | null;
  searchAttributes?: commonv1.ISearchAttributes | null;
  firstWorkflowTaskBackoffMs: number;
  /** Set for continue-as-new, retry and cron runs. */
  continued?: {
    previousRunId: string;
    firstRunId: string;
    attempt: number;
    initiator: number;
    failure?: failurev1.IFailure | null;
    lastCompletionResult?: commonv1.IPayloads | null;
    executionExpirationTimeMs: number;
  };
  parent?: ParentInfo;
  /** A signal written right after the started event (signal-with-start). */
  signal?: { name: string; input?: commonv1.IPayloads | null; header?: commonv1.IHeader | null; identity: string; requestId: string };
  /** Worker Versioning: pinned to a version, or auto-upgrade, whatever the workers declare. */
  versioningOverride?: workflowv1.IVersioningOverride | null;
  /** Eager workflow start: the caller's identity, its worker takes the first task from the start's answer. */
  eagerIdentity?: string;
  /** A start that carries an earlier run's outcome without continuing it (a schedule's next action). */
  prior?: { lastCompletionResult?: commonv1.IPayloads | null; continuedFailure?: failurev1.IFailure | null };
  /** The static summary and details the Web UI shows, kept on the started event. */
  userMetadata?: sdkv1.IUserMetadata | null;
  /** As asked (a child's: merged over its parent's); a run that follows another keeps that one's. */
  priority?: commonv1.IPriority | null;
}


/** The reference's workflow task timeout: 10 s unless asked, at most 120 s, never past the run timeout (0: none). */
export function workflowTaskTimeoutMs(requested: Parameters<typeof optionalDurationMs>[0], runTimeoutMs: number): number {
  const ms = Math.min(optionalDurationMs(requested) || 10_000, 120_000);
  return runTimeoutMs > 0 ? Math.min(ms, runTimeoutMs) : ms;
}

export function startParamsFromRequest(req: ws.IStartWorkflowExecutionRequest | ws.ISignalWithStartWorkflowExecutionRequest): StartParams {
  const executionTimeoutMs = optionalDurationMs(req.workflowExecutionTimeout);
  let runTimeoutMs = optionalDurationMs(req.workflowRunTimeout);
  if (executionTimeoutMs && (!runTimeoutMs || runTimeoutMs > executionTimeoutMs)) runTimeoutMs = executionTimeoutMs;
  const cron = req.cronSchedule ?? '';
  const delayMs = optionalDurationMs(req.workflowStartDelay);
  return {
    requestId: req.requestId || randomUUID(),
    workflowId: req.workflowId ?? '',
    workflowType: req.workflowType?.name ?? '',
    taskQueue: req.taskQueue?.name ?? '',
    input: req.input,
    header: req.header,
    workflowExecutionTimeoutMs: executionTimeoutMs,
    workflowRunTimeoutMs: runTimeoutMs,
    workflowTaskTimeoutMs: workflowTaskTimeoutMs(req.workflowTaskTimeout, runTimeoutMs ?? 0),
    identity: req.identity ?? '',
    retryPolicy: req.retryPolicy,
    cronSchedule: cron,
    memo: req.memo,
    searchAttributes: req.searchAttributes,
    firstWorkflowTaskBackoffMs: cron ? nextCronDelayMs(cron, Date.now()) : delayMs,
    versioningOverride: req.versioningOverride,
    prior: 'lastCompletionResult' in req ? { lastCompletionResult: req.lastCompletionResult, continuedFailure: req.continuedFailure } : undefined,
    userMetadata: req.userMetadata,
    priority: req.priority,
  };
}

export class RunStarter {
  constructor(
    private readonly tx: Transactions,
    private readonly scheduler: WorkflowTaskScheduler,
  ) {}

  /** The started event, a signal of signal-with-start, and the first workflow task unless delayed. */
  addStartEvents(ms: MutableState, p: StartParams, now: number): void {
    ms.progress.createRequestId = p.requestId;
    const executionExpiration =
      p.continued?.executionExpirationTimeMs ?? (p.workflowExecutionTimeoutMs ? now + p.workflowExecutionTimeoutMs : 0);
    ms.addEvent(
      ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      {
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: p.workflowType },
          taskQueue: { name: p.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          input: p.input,
          header: p.header,
          workflowExecutionTimeout: p.workflowExecutionTimeoutMs ? durationFromMs(p.workflowExecutionTimeoutMs) : null,
          workflowRunTimeout: p.workflowRunTimeoutMs ? durationFromMs(p.workflowRunTimeoutMs) : null,
          workflowTaskTimeout: durationFromMs(p.workflowTaskTimeoutMs),
          identity: p.identity,
          originalExecutionRunId: ms.info.runId,
          firstExecutionRunId: p.continued?.firstRunId ?? ms.info.runId,
          continuedExecutionRunId: p.continued?.previousRunId ?? '',
          initiator: p.continued?.initiator ?? 0,
          continuedFailure: p.continued ? p.continued.failure : p.prior?.continuedFailure,
          lastCompletionResult: p.continued ? p.continued.lastCompletionResult : p.prior?.lastCompletionResult,
          attempt: p.continued?.attempt ?? 1,
          retryPolicy: p.retryPolicy ? retryPolicyWithDefaults(p.retryPolicy) : null,
          cronSchedule: p.cronSchedule ?? '',
          memo: p.memo,
          searchAttributes: p.searchAttributes,
          firstWorkflowTaskBackoff: p.firstWorkflowTaskBackoffMs > 0 ? durationFromMs(p.firstWorkflowTaskBackoffMs) : null,
          workflowExecutionExpirationTime: executionExpiration ? timestampFromMs(executionExpiration) : null,
          parentWorkflowNamespace: p.parent?.namespace ?? '',
          parentWorkflowNamespaceId: p.parent?.namespaceId ?? '',
          parentWorkflowExecution: p.parent ? { workflowId: p.parent.workflowId, runId: p.parent.runId } : null,
          parentInitiatedEventId: p.parent ? toLong(BigInt(p.parent.initiatedEventId)) : null,
          rootWorkflowExecution: p.parent?.root ?? null,
          workflowId: ms.info.workflowId,
          versioningOverride: p.versioningOverride,
          priority: p.priority,
          // As the reference: the started event says the start was eager (its first task answered with it).
          eagerExecutionAccepted: p.eagerIdentity !== undefined,
        },
        userMetadata: p.userMetadata,
      },
      now,
    );
    if (p.signal) {
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        {
          workflowExecutionSignaledEventAttributes: {
            signalName: p.signal.name,
            input: p.signal.input,
            header: p.signal.header,
            identity: p.signal.identity,
            requestId: p.signal.requestId,
          },
        },
        now,
      );
    }
    if (p.firstWorkflowTaskBackoffMs > 0) return;
    this.scheduler.schedule(ms, now);
    // Eager start: the first task is started in the start's own write, so matching never sees it.
    if (p.eagerIdentity !== undefined) {
      ms.addEvent(
        ET.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        {
          workflowTaskStartedEventAttributes: {
            scheduledEventId: toLong(BigInt(ms.workflowTask!.scheduledEventId)),
            identity: p.eagerIdentity,
            requestId: randomUUID(),
            historySizeBytes: toLong(BigInt(ms.info.historySizeBytes)),
          },
        },
        now,
      );
    }
  }

  /**
   * The run that follows a closed one (continue-as-new, retry, cron) shares the workflow id and
   * is written in the same batch; this builds its mutable state.
   */
  newRunAfter(ms: MutableState, params: StartParams, now: number): MutableState {
    const runId = newRunId();
    const next = MutableState.empty(
      { namespaceId: ms.info.namespaceId, workflowId: ms.info.workflowId, runId },
      ms.currentVersion,
      runId,
    );
    this.addStartEvents(next, params, now);
    return next;
  }

  /** What the run's retry policy says about the failure that closes it. */
  retryDecision(ms: MutableState, failure: failurev1.IFailure | null, now: number): RetryDecision {
    return retryDecision(ms.info.retryPolicy, ms.info.attempt, failure, now, ms.info.executionExpirationTimeMs);
  }

  /** Start params for a retry or cron run of ms, or null when neither applies. */
  async nextRunParams(
    ms: MutableState,
    kind: 'retry' | 'cron',
    now: number,
    failure: failurev1.IFailure | null,
    lastResult: commonv1.IPayloads | null,
  ): Promise<StartParams | null> {
    const info = ms.info;
    let backoff = -1;
    let attempt = info.attempt;
    let initiator = enums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY;
    if (kind === 'retry') {
      backoff = this.retryDecision(ms, failure, now).backoffMs;
      attempt = info.attempt + 1;
    } else if (info.cronSchedule) {
      backoff = nextCronDelayMs(info.cronSchedule, now);
      attempt = 1;
      initiator = enums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE;
    }
    if (backoff < 0) return null;
    const started = (await this.tx.readEvent(ms, 1))?.workflowExecutionStartedEventAttributes;
    if (!started) return null;
    return {
      requestId: randomUUID(),
      workflowId: info.workflowId,
      workflowType: info.workflowType,
      taskQueue: info.taskQueue,
      input: started.input,
      header: started.header,
      workflowExecutionTimeoutMs: info.executionTimeoutMs,
      workflowRunTimeoutMs: info.runTimeoutMs,
      workflowTaskTimeoutMs: info.workflowTaskTimeoutMs,
      identity: 'history-service',
      retryPolicy: started.retryPolicy,
      cronSchedule: info.cronSchedule,
      memo: info.memo ? decodeB64(commonv1.Memo, info.memo) : null,
      searchAttributes: info.searchAttributes ? decodeB64(commonv1.SearchAttributes, info.searchAttributes) : null,
      firstWorkflowTaskBackoffMs: backoff,
      continued: {
        previousRunId: info.runId,
        firstRunId: info.firstRunId,
        attempt,
        initiator,
        failure,
        lastCompletionResult: lastResult,
        executionExpirationTimeMs: info.executionExpirationTimeMs,
      },
      parent: info.parent ?? undefined,
      priority: info.priority,
    };
  }
}
