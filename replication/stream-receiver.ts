// The receiving end for one local shard and one remote region: opens StreamShard on the remote
// frontend, applies each batch in order through the replicated write policy, acknowledges its low
// watermark every ackIntervalMs, asks for a resend when an apply finds a gap, and after
// maxApplyAttempts puts a task in the DLQ and moves on. Reconnects by itself with backoff; keeps
// no state of its own (the sender resumes from the ack it persisted); what it saw of the source is
// in `lag` (receiver-lag.ts).
import { isTandemError } from '../services/common/errors.js';
import { sleep } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import type { HistoryEngine } from '../services/history/engine.js';
import { resendFromOf } from '../services/history/replication-gap.js';
import type { Shard } from '../services/history/shard.js';
import type { ExecutionKey } from '../services/persistence/types.js';
import type { ReplicationTask, StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import type { ReplicationConfig } from './config.js';
import type { ReplicationDlq } from './dlq.js';
import { labels, type ReplicationMetrics } from './metrics.js';
import { ReceiverLag } from './receiver-lag.js';
import type { ReceiverCall, StreamClients } from './stream-clients.js';
import { decodeEvents, decodeSnapshot, keyOf } from './wire.js';

export interface ReceiverDeps {
  engine: HistoryEngine;
  config: ReplicationConfig;
  metrics: ReplicationMetrics;
  dlq: ReplicationDlq;
  clients: StreamClients;
  localRegion: string;
}

class Stopped extends Error {}

export class StreamReceiver {
  private readonly abort = new AbortController();
  private call?: ReceiverCall;
  private loopDone?: Promise<void>;
  /** Batches apply one after another, across reconnects too. */
  private chain: Promise<void> = Promise.resolve();
  /** Every task up to this id is applied or in the DLQ. */
  private applied = 0n;
  private ackedSent = 0n;
  private readonly resends = new Map<string, (t: ReplicationTask) => void>();
  private readonly labels;
  readonly lag = new ReceiverLag();

  constructor(
    private readonly deps: ReceiverDeps,
    readonly shard: Shard,
    readonly source: string,
    private readonly address: string,
    private readonly log: Logger,
  ) {
    this.labels = labels(shard.shardId, source, deps.localRegion);
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.call?.cancel();
    await this.loopDone;
    await this.chain;
  }

  /** Applies a DLQ entry's run again from the sender: true when it applied. */
  async retry(key: ExecutionKey, toEventId: number): Promise<boolean> {
    try {
      const from = await this.nextEventId(key);
      const answer = await this.resend(key, from, Math.max(toEventId, from));
      await this.apply(answer);
      return true;
    } catch (err) {
      this.log.info({ err, workflowId: key.workflowId }, 'replication DLQ retry failed');
      return false;
    }
  }

  private async loop(): Promise<void> {
    const { config, metrics } = this.deps;
    let backoff = config.reconnectInitialBackoffMs;
    for (let first = true; !this.abort.signal.aborted; first = false) {
      if (!first) metrics.reconnects.inc(this.labels);
      const progressed = await this.session();
      if (this.abort.signal.aborted) break;
      if (progressed) backoff = config.reconnectInitialBackoffMs;
      await sleep(backoff, this.abort.signal);
      backoff = Math.min(backoff * 2, config.reconnectMaxBackoffMs);
    }
  }

  /** One stream, until it ends; true when a batch arrived on it. */
  private session(): Promise<boolean> {
    const call = this.deps.clients.open(this.address);
    this.call = call;
    let progressed = false;
    call.write({ start: { shardId: this.shard.shardId, region: this.deps.localRegion } });
    const acker = setInterval(() => this.ack(call, true), this.deps.config.ackIntervalMs);
    call.on('data', (batch: StreamShardResponse) => {
      progressed = true;
      const receivedAtMs = Date.now();
      // An answer to a resend: high_task_id 0 with tasks (a heartbeat at read level 0 has none).
      if (batch.highTaskId === 0n && batch.tasks.length > 0) {
        this.lag.heard({ tasks: [] }, receivedAtMs);
        for (const t of batch.tasks) this.resends.get(resendKey(keyOf(t), Number(t.firstEventId)))?.(t);
        return;
      }
      this.lag.heard(batch, receivedAtMs);
      this.chain = this.chain
        .then(() => this.applyBatch(batch, receivedAtMs, call))
        .catch((err: unknown) => {
          if (!(err instanceof Stopped)) this.log.warn({ err }, 'replication receiver failed a batch; reconnecting');
          call.cancel();
        });
    });
    return new Promise((resolve) => {
      let ended = false;
      const end = (err?: Error) => {
        if (ended) return;
        ended = true;
        clearInterval(acker);
        this.lag.disconnected();
        if (err && !this.abort.signal.aborted) this.log.debug({ err: err.message }, 'replication stream ended');
        if (this.call === call) this.call = undefined;
        resolve(progressed);
      };
      call.on('error', end);
      call.on('end', () => end());
      call.on('close', () => end());
    });
  }

  private async applyBatch(batch: StreamShardResponse, receivedAtMs: number, call: ReceiverCall): Promise<void> {
    let done = 0;
    try {
      for (const t of batch.tasks) {
        await this.applyWithRetries(t);
        this.lag.settled([t]);
        done++;
      }
    } finally {
      // What a failed batch had left is shipped again after the reconnect, and counted then.
      this.lag.settled(batch.tasks.slice(done));
    }
    if (batch.highTaskId > this.applied) this.applied = batch.highTaskId;
    if (batch.endOfQueue) this.lag.caughtUp(batch, receivedAtMs);
    // Keep the sender's window open under load instead of waiting for the timer.
    this.ack(call, false);
  }

  private ack(call: ReceiverCall, heartbeat: boolean): void {
    if (this.applied === 0n) return;
    if (!heartbeat && this.applied === this.ackedSent) return;
    this.ackedSent = this.applied;
    call.write({ ack: { ackTaskId: this.applied } });
  }

  private async applyWithRetries(t: ReplicationTask): Promise<void> {
    const { config, metrics, dlq } = this.deps;
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted) throw new Stopped();
      try {
        await this.apply(t);
        metrics.applied.inc(this.labels);
        return;
      } catch (err) {
        metrics.failed.inc(this.labels);
        if (attempt >= config.maxApplyAttempts) {
          this.log.error({ err, workflowId: t.workflowId, runId: t.runId, taskId: t.taskId.toString() }, 'replication task failed for good; moved to the DLQ');
          await dlq.add(this.shard, this.source, t, err, attempt);
          return;
        }
        if (isTandemError(err, 'FAILED_PRECONDITION')) await this.fillGap(t, resendFromOf(err)).catch((e: unknown) => this.log.info({ err: e }, 'replication resend failed'));
        else await sleep(config.applyBackoffMs * 2 ** (attempt - 1), this.abort.signal);
      }
    }
  }

  private async apply(t: ReplicationTask): Promise<void> {
    await this.deps.engine.tx.applyReplicated(keyOf(t), decodeEvents(t), decodeSnapshot(t));
  }

  /**
   * Asks the sender for the events between where the gap starts (the run's next event id here, or
   * where the task's branch leaves the local ones) and the task's end, and applies them.
   */
  private async fillGap(t: ReplicationTask, gapStart?: number): Promise<void> {
    const key = keyOf(t);
    const from = gapStart ?? (await this.nextEventId(key));
    await this.apply(await this.resend(key, from, Math.max(Number(t.nextEventId), from)));
  }

  private async nextEventId(key: ExecutionKey): Promise<number> {
    try {
      return (await this.deps.engine.tx.read(key.namespaceId, key.workflowId, key.runId)).info.nextEventId;
    } catch (err) {
      if (isTandemError(err, 'WORKFLOW_NOT_FOUND')) return 1;
      throw err;
    }
  }

  private resend(key: ExecutionKey, from: number, to: number): Promise<ReplicationTask> {
    const call = this.call;
    if (!call) return Promise.reject(new Error(`no replication stream from ${this.source} for shard ${this.shard.shardId}`));
    const k = resendKey(key, from);
    return new Promise<ReplicationTask>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.resends.delete(k);
        reject(new Error(`resend of ${key.workflowId}/${key.runId} from ${from} timed out`));
      }, this.deps.config.resendTimeoutMs);
      this.resends.set(k, (t) => {
        clearTimeout(timer);
        this.resends.delete(k);
        resolve(t);
      });
      call.write({ resend: { ...key, fromEventId: BigInt(from), toEventId: BigInt(to) } });
    });
  }
}

function resendKey(key: ExecutionKey, from: number): string {
  return `${key.namespaceId}/${key.workflowId}/${key.runId}@${from}`;
}
