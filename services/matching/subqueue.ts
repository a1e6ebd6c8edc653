// One priority level of a task queue: the tasks it holds in memory in dispatch order (level: pass,
// then id, so fairness keys take turns by weight), the level its stored backlog was read up to,
// and which tasks are done (ackLevel.ts). It does no I/O: the queue manager reads and writes the
// store under its lock and tells the subqueue what happened. A sticky queue's subqueues hold
// everything in memory and store nothing.
import type { QueuedTask } from '../persistence/types.js';
import type { AddTaskRequest } from './api.js';
import { AckLevelTracker } from './ackLevel.js';
import { PassCounter } from './pass-counter.js';
import { fairnessStride } from './priority.js';
import { compareLevels, insertionIndex, type TaskLevel } from './task-level.js';

export interface BufferedTask {
  readonly req: AddTaskRequest;
  /** The priority level it waits in. */
  readonly subqueue: number;
  /** Its place in the subqueue; null until it is queued (a sync-matched task never is). */
  level: TaskLevel | null;
  readonly createdAtMs: number;
  /** 0: never expires. */
  readonly expiryTimeMs: number;
  /** Failed start attempts; the task is not dispatched again before notBeforeMs. */
  attempts: number;
  notBeforeMs: number;
  /**
   * Routed by the task queue's versions, not pinned: when the routing changes, it may move to
   * another version's sub-queue. False for pinned tasks and for rows written before this was stored.
   */
  readonly movable: boolean;
}

export interface SubqueueLimits {
  /** Tasks held in memory at most (written tasks that belong below the read level may pass it). */
  batchSize: number;
  /** Fairness keys whose passes are remembered. */
  fairnessKeys: number;
}

const levelOf = (t: BufferedTask) => t.level!;

export class Subqueue {
  /** Queued tasks in memory, by level; none is being started. */
  private buffer: BufferedTask[] = [];
  /** Null for a sticky queue's: nothing stored, nothing to ack. */
  private readonly tracker: AckLevelTracker | null;
  private readonly passes: PassCounter;
  /** The highest pass dispatched: new keys start here. */
  private front = 0n;
  /** Nothing stored above the read level (until a write leaves a task there). */
  private exhausted: boolean;
  /** Tasks known to be stored above the read level. */
  private unread = 0;

  constructor(
    readonly priority: number,
    ackLevel: TaskLevel | null,
    private readonly limits: SubqueueLimits,
  ) {
    this.tracker = ackLevel ? new AckLevelTracker(ackLevel) : null;
    this.passes = new PassCounter(limits.fairnessKeys);
    this.exhausted = !this.tracker;
    if (ackLevel) this.front = ackLevel.pass;
  }

  get size(): number {
    return this.buffer.length;
  }

  get readLevel(): TaskLevel | null {
    return this.tracker?.readLevel ?? null;
  }

  get ackLevel(): TaskLevel | null {
    return this.tracker?.ackLevel ?? null;
  }

  /** Queued tasks, in memory or stored and not read yet. */
  get backlog(): number {
    return this.buffer.length + this.unread;
  }

  get oldestCreatedMs(): number | null {
    return this.buffer.length > 0 ? Math.min(...this.buffer.map((t) => t.createdAtMs)) : null;
  }

  /** Nothing waits here, in memory or in the store. */
  get empty(): boolean {
    return this.buffer.length === 0 && this.exhausted;
  }

  /** How many tasks a read may bring in now (0: none wanted). */
  get room(): number {
    return this.exhausted ? 0 : Math.max(0, this.limits.batchSize - this.buffer.length);
  }

  /**
   * Gives a task about to be queued its level: its fairness key's next pass, and `taskId`. Until
   * `written`, the ack level stays below it, so its write can never land behind a delete.
   */
  place(task: BufferedTask, taskId: bigint): TaskLevel {
    const p = task.req.priority;
    const base = this.tracker && this.tracker.ackLevel.pass > this.front ? this.tracker.ackLevel.pass : this.front;
    task.level = { pass: this.passes.next(p?.fairnessKey ?? '', base, fairnessStride(p)), taskId };
    this.tracker?.add(task.level);
    return task.level;
  }

  /**
   * The write of a placed task ended. A task at or below the read level must be held in memory
   * (reads start above it); then the highest-level tasks beyond the batch size are let go and read
   * again later. Above the read level, it is taken in only when the store has nothing else there.
   */
  written(task: BufferedTask, ok: boolean): void {
    const level = task.level!;
    const tracker = this.tracker;
    if (!tracker) {
      this.insert(task);
      return;
    }
    if (!ok) {
      tracker.remove(level);
    } else if (compareLevels(level, tracker.readLevel) <= 0) {
      this.insert(task);
      this.letGoBeyondBatch();
    } else if (this.exhausted && this.buffer.length < this.limits.batchSize) {
      this.insert(task);
      tracker.setReadLevel(level);
    } else {
      tracker.remove(level);
      this.exhausted = false;
      this.unread++;
    }
  }

  /**
   * Rows read above the read level, in order; `last` when the store had no more. Rows known
   * already (in memory, being started, or done) are skipped; `decode` gives null for a row that is
   * done as soon as read (undecodable, expired).
   */
  loaded(rows: QueuedTask[], last: boolean, decode: (row: QueuedTask) => BufferedTask | null): void {
    const tracker = this.tracker!;
    for (const row of rows) {
      const level = { pass: row.pass, taskId: row.taskId };
      if (tracker.has(row.taskId)) continue;
      tracker.add(level);
      const task = decode(row);
      if (!task) {
        tracker.finish(level);
        continue;
      }
      task.level = level;
      this.passes.observe(task.req.priority?.fairnessKey ?? '', row.pass);
      this.buffer.push(task);
    }
    this.unread = Math.max(0, this.unread - rows.length);
    const lastRow = rows[rows.length - 1];
    if (lastRow) tracker.setReadLevel({ pass: lastRow.pass, taskId: lastRow.taskId });
    if (last) {
      this.exhausted = true;
      this.unread = 0;
    }
  }

  /**
   * The first task not backing off, taken out; expired tasks met on the way are taken out and
   * handed to `expired`. With none ready, when the first backing-off one is due (Infinity: none).
   */
  next(now: number, expired: (t: BufferedTask) => void): { task: BufferedTask } | { retryAtMs: number } {
    let retryAtMs = Infinity;
    for (let i = 0; i < this.buffer.length; i++) {
      const task = this.buffer[i]!;
      if (isExpired(task, now)) {
        this.buffer.splice(i--, 1);
        expired(task);
      } else if (task.notBeforeMs <= now) {
        this.buffer.splice(i, 1);
        if (task.level!.pass > this.front) this.front = task.level!.pass;
        return { task };
      } else if (task.notBeforeMs < retryAtMs) {
        retryAtMs = task.notBeforeMs;
      }
    }
    return { retryAtMs };
  }

  /** A taken task whose start failed: back in its place, to be tried after its backoff. */
  putBack(task: BufferedTask): void {
    this.insert(task);
  }

  /** Takes out the buffered tasks `pick` chooses. */
  takeWhere(pick: (t: BufferedTask) => boolean): BufferedTask[] {
    const taken = this.buffer.filter(pick);
    if (taken.length > 0) this.buffer = this.buffer.filter((t) => !taken.includes(t));
    return taken;
  }

  /** A task that left the queue (started, stale, expired or moved). */
  finish(task: BufferedTask): void {
    if (task.level) this.tracker?.finish(task.level);
  }

  /**
   * The queue was leased again (another owner may have written meanwhile, at any level): the
   * buffer is let go and the stored backlog read again from the ack level; what is being started
   * or done is known and skipped when met again.
   */
  reread(): void {
    const tracker = this.tracker;
    if (!tracker) return;
    tracker.letGo(this.buffer.map(levelOf), tracker.ackLevel);
    this.buffer = [];
    this.exhausted = false;
    this.unread = 0;
  }

  private insert(task: BufferedTask): void {
    this.buffer.splice(insertionIndex(this.buffer, task.level!, levelOf), 0, task);
  }

  private letGoBeyondBatch(): void {
    const over = this.buffer.length - this.limits.batchSize;
    if (over <= 0) return;
    const letGo = this.buffer.splice(this.limits.batchSize);
    this.tracker!.letGo(letGo.map(levelOf), levelOf(this.buffer[this.buffer.length - 1]!));
    this.exhausted = false;
    this.unread += over;
  }
}

export function isExpired(task: BufferedTask, now: number): boolean {
  return task.expiryTimeMs > 0 && task.expiryTimeMs <= now;
}
