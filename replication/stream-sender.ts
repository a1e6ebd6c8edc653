// The sending end of one receiver's stream for one shard: ships the shard's replication tasks in
// task-id order from the receiver's ack, at most windowTasks unacknowledged, each with its events
// read now; answers resend requests; hands acks to the shard's ShardAcks. Tasks of namespaces that
// do not replicate to the receiver are skipped (covered by the batch's high_task_id). An idle sender
// sends an empty batch at its read level every heartbeatIntervalMs (receiver-lag.ts).
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../services/common/logger.js';
import type { HistoryEngine } from '../services/history/engine.js';
import type { TaskAttrs } from '../services/history/tasks.js';
import type { NamespaceRegistry } from '../services/namespaces/registry.js';
import type { Persistence } from '../services/persistence/store.js';
import type { HistoryTask } from '../services/persistence/types.js';
import type { ReplicationTask, StreamResend, StreamShardRequest, StreamShardResponse } from '../proto/gen/tandem/replication/v1/replication.js';
import type { ReplicationConfig } from './config.js';
import { labels, type ReplicationMetrics } from './metrics.js';
import type { ShardAcks } from './shard-acks.js';
import { readTask } from './wire.js';

export type SenderCall = grpc.ServerDuplexStream<StreamShardRequest, StreamShardResponse>;

export interface SenderDeps {
  engine: HistoryEngine;
  store: Persistence;
  namespaces: NamespaceRegistry;
  config: ReplicationConfig;
  metrics: ReplicationMetrics;
}

const MAX_TASK_ID = (1n << 63n) - 1n;

export class StreamSender {
  private readLevel: bigint;
  /** Shipped or skipped, not acknowledged yet: the flow-control window and the lag. */
  private inFlight: { taskId: bigint; createdMs: number }[] = [];
  private wakeUp?: () => void;
  private closed = false;
  /** When the last batch or heartbeat went out: heartbeats only fill silences. */
  private lastSentMs = 0;
  private readonly labels;
  readonly done: Promise<void>;

  constructor(
    private readonly deps: SenderDeps,
    private readonly acks: ShardAcks,
    readonly region: string,
    private readonly call: SenderCall,
    private readonly log: Logger,
  ) {
    this.readLevel = acks.get(region);
    this.labels = labels(acks.shard.shardId, deps.namespaces.localRegion, region);
    call.on('data', (req: StreamShardRequest) => this.onRequest(req));
    call.on('end', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
    this.done = this.run().catch((err: unknown) => {
      this.log.warn({ err }, 'replication sender failed; the receiver reconnects');
      this.close({ code: grpc.status.UNAVAILABLE, details: `replication sender failed: ${String(err)}` });
    });
  }

  /** New tasks were committed on the shard. */
  notify(): void {
    this.wakeUp?.();
  }

  /** Ends the stream: OK when the receiver went away, UNAVAILABLE when the shard moved or the node stops. */
  close(status?: Partial<grpc.StatusObject>): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp?.();
    if (status) this.call.emit('error', status);
    else this.call.end();
  }

  private async run(): Promise<void> {
    const { store, config } = this.deps;
    const shardId = this.acks.shard.shardId;
    while (!this.closed) {
      if (this.acks.shard.isLost) return this.close({ code: grpc.status.UNAVAILABLE, details: `shard ${shardId} moved` });
      const room = Math.min(config.batchTasks, config.windowTasks - this.inFlight.length);
      const readAtMs = Date.now();
      const tasks = room > 0 ? await store.executions.getHistoryTasks({ shardId, category: 'replication', afterTaskId: this.readLevel, maxTaskId: MAX_TASK_ID, limit: room }) : [];
      if (tasks.length === 0) {
        // Only a read that ran (the window had room) tells that nothing is beyond the read level.
        if (room > 0 && Date.now() - this.lastSentMs >= config.heartbeatIntervalMs) {
          await this.sendQueued({ tasks: [], highTaskId: this.readLevel, endOfQueue: true }, readAtMs);
        }
        this.updateLag();
        const untilHeartbeat = room > 0 ? Math.max(1, this.lastSentMs + config.heartbeatIntervalMs - Date.now()) : Infinity;
        await this.wait(Math.min(config.pollIntervalMs, untilHeartbeat));
        continue;
      }
      const out: ReplicationTask[] = [];
      for (const t of tasks) {
        const shipped = await this.toWire(t);
        if (shipped) out.push(shipped);
        this.inFlight.push({ taskId: t.taskId, createdMs: t.visibilityTimeMs });
      }
      this.readLevel = tasks.at(-1)!.taskId;
      await this.sendQueued({ tasks: out, highTaskId: this.readLevel, endOfQueue: tasks.length < room }, readAtMs);
      this.updateLag();
    }
  }

  /** The task as shipped, or null when the receiver does not need it (not replicated there, run gone). */
  private async toWire(t: HistoryTask): Promise<ReplicationTask | null> {
    const ns = await this.deps.namespaces.getById(t.namespaceId);
    if (!ns?.regions.includes(this.region)) return null;
    const attrs = JSON.parse(t.data) as TaskAttrs;
    return readTask(this.deps.engine, {
      taskId: t.taskId,
      key: { namespaceId: t.namespaceId, workflowId: t.workflowId, runId: t.runId },
      firstEventId: attrs.firstEventId ?? 0,
      nextEventId: attrs.nextEventId ?? 0,
      version: attrs.version ?? '0',
      createdTimeMs: t.visibilityTimeMs,
    });
  }

  private onRequest(req: StreamShardRequest): void {
    if (req.ack) {
      const id = req.ack.ackTaskId;
      this.acks.advance(this.region, id);
      this.inFlight = this.inFlight.filter((t) => t.taskId > id);
      this.updateLag();
      this.wakeUp?.();
    }
    if (req.resend) void this.resend(req.resend);
  }

  private async resend(r: StreamResend): Promise<void> {
    try {
      const task = await readTask(this.deps.engine, {
        taskId: 0n,
        key: { namespaceId: r.namespaceId, workflowId: r.workflowId, runId: r.runId },
        firstEventId: Number(r.fromEventId),
        nextEventId: Number(r.toEventId),
        version: '0',
        createdTimeMs: Date.now(),
      });
      // A run that is gone answers with no events: the receiver's apply fails and counts it.
      const answer: ReplicationTask = task ?? {
        taskId: 0n, namespaceId: r.namespaceId, workflowId: r.workflowId, runId: r.runId, firstEventId: r.fromEventId,
        nextEventId: r.fromEventId, version: '0', events: [], nonEventJson: '', createdTimeMs: 0n,
      };
      await this.send({ tasks: [answer], highTaskId: 0n, endOfQueue: false, sentTimeMs: BigInt(Date.now()) });
    } catch (err) {
      this.log.warn({ err, workflowId: r.workflowId }, 'replication resend failed');
    }
  }

  /** A batch of the queue or a heartbeat (not a resend answer), stamped with the time of its read. */
  private sendQueued(msg: Omit<StreamShardResponse, 'sentTimeMs'>, readAtMs: number): Promise<void> {
    this.lastSentMs = Date.now();
    return this.send({ ...msg, sentTimeMs: BigInt(readAtMs) });
  }

  private async send(msg: StreamShardResponse): Promise<void> {
    if (this.closed) return;
    this.deps.metrics.sent.inc(this.labels, msg.tasks.length);
    if (!this.call.write(msg)) await Promise.race([once(this.call, 'drain'), once(this.call, 'close')]);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private updateLag(): void {
    const { lagTasks, lagSeconds } = this.deps.metrics;
    lagTasks.set(this.labels, this.inFlight.length);
    lagSeconds.set(this.labels, this.inFlight.length > 0 ? Math.max(0, Date.now() - this.inFlight[0]!.createdMs) / 1000 : 0);
  }
}
