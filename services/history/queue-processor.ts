// One queue (transfer or timer) of one shard, run through the task executor. The queue remembers
// which tasks it read and has not finished, so it can tell how far every task is done: its ack
// level, which ShardQueues persists and range-deletes below. A task of a namespace that is not
// active here (DESIGN invariant 7) is parked: it is neither run again nor deleted, and the ack
// level stays below it, until its namespace changes or the slow recheck finds it runs.
import { isTandemError } from '../common/errors.js';
import { sleep } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import type { Persistence } from '../persistence/store.js';
import type { HistoryTask } from '../persistence/types.js';
import type { HistoryConfig } from './config.js';
import { ParkedTasks, type KeyRange } from './parked-tasks.js';
import type { Shard } from './shard.js';
import { keyId, minKey, predecessor, successor, type TaskKey } from './task-key.js';

export const READ_BATCH = 200;

/** What runs a task; it throws NAMESPACE_NOT_ACTIVE or NAMESPACE_HANDOVER for a passive namespace. */
export interface TaskRunner {
  execute(task: HistoryTask): Promise<void>;
}

/** The shard as its queues see it. */
export type QueueShard = Pick<Shard, 'shardId' | 'isLost' | 'ackLevels' | 'updateAckLevels' | 'settledUnknownOutcomes'>;

export interface QueueDeps {
  shard: QueueShard;
  store: Persistence;
  runner: TaskRunner;
  config: HistoryConfig;
  log: Logger;
}

type Outcome = 'done' | 'parked' | 'dropped';

function isPassiveHere(err: unknown): boolean {
  return isTandemError(err, 'NAMESPACE_NOT_ACTIVE') || isTandemError(err, 'NAMESPACE_HANDOVER');
}

export abstract class QueueProcessor {
  protected readonly shard: QueueShard;
  protected readonly store: Persistence;
  protected readonly config: HistoryConfig;
  protected readonly log: Logger;
  private readonly runner: TaskRunner;
  private readonly stopping = new AbortController();
  /** Read and not done: running, waiting for a retry, or (timers) armed. */
  private readonly outstanding = new Map<string, TaskKey>();
  /** Tasks done so far: a level that moved with no task done below it has nothing to delete. */
  doneCount = 0;
  private readonly parked = new ParkedTasks();
  /** Parked ranges being read again; each one's low moves up as the read hands its tasks over. */
  private readonly rereads = new Set<KeyRange>();
  /** Changes seen per namespace: a task refused before a change it overlapped runs again at once. */
  private readonly changes = new Map<string, number>();
  private wake: (() => void) | null = null;
  private notified = false;
  private loop?: Promise<void>;
  private recheckTimer?: NodeJS.Timeout;

  constructor(deps: QueueDeps) {
    this.shard = deps.shard;
    this.store = deps.store;
    this.runner = deps.runner;
    this.config = deps.config;
    this.log = deps.log;
  }

  /** Reads the queue's tasks in key order: those after `after`, up to and including `upTo`. */
  protected abstract read(after: TaskKey, upTo: TaskKey, limit: number): Promise<HistoryTask[]>;
  /** Reads what is new and hands it to track/run. */
  protected abstract pump(): Promise<void>;
  /** Every task ordered before this key was read (or handed over some other way). */
  protected abstract readBound(): TaskKey;

  protected abstract keyOf(task: HistoryTask): TaskKey;

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  start(): void {
    this.loop = this.run();
    this.recheckTimer = setInterval(() => this.recheckParked(), this.config.parkedRecheckIntervalMs);
    this.recheckTimer.unref();
  }

  /** Stops reading and retrying; tasks running now finish on their own, and stay below the ack level. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.recheckTimer);
    this.notify();
    await this.loop;
  }

  /** New tasks were committed: read again now (or right after the read in progress). */
  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  /** The namespace's record changed (it may have become active here): its parked tasks run again. */
  namespaceChanged(namespaceId: string): void {
    this.changes.set(namespaceId, (this.changes.get(namespaceId) ?? 0) + 1);
    void this.reread(namespaceId);
  }

  /**
   * The key every task before which is done: the lowest task read and not done (parked ones
   * included), and never past what was read.
   */
  doneBelow(): TaskKey {
    let low = this.readBound();
    for (const k of this.outstanding.values()) low = minKey(low, k);
    for (const r of this.rereads) low = minKey(low, r.low);
    const parked = this.parked.lowest();
    return parked ? minKey(low, parked) : low;
  }

  /**
   * Registers a task as read; false when it is already outstanding (read twice), or lies in its
   * namespace's parked range (a timer offered by its write and then read again by a window read):
   * that range is read again, and its tasks run, when the namespace changes.
   */
  protected track(task: HistoryTask): boolean {
    const key = this.keyOf(task);
    const id = keyId(key);
    if (this.outstanding.has(id) || this.parked.covers(task.namespaceId, key)) return false;
    this.outstanding.set(id, key);
    return true;
  }

  /**
   * Runs a tracked task until it is done, parked, or the queue stops (then it stays outstanding,
   * so the ack level never passes it). Other failures retry with backoff and block nothing else.
   */
  protected async runTracked(task: HistoryTask): Promise<Outcome> {
    const key = this.keyOf(task);
    for (let attempt = 1; !this.stopped && !this.shard.isLost; attempt++) {
      const changesBefore = this.changes.get(task.namespaceId);
      try {
        await this.runner.execute(task);
        this.finished(key);
        return 'done';
      } catch (err) {
        if (isTandemError(err, 'SHARD_MOVED')) break;
        if (isPassiveHere(err)) {
          // Refused on a view of the namespace that changed meanwhile: ask again at once.
          if (this.changes.get(task.namespaceId) !== changesBefore) continue;
          this.parked.add(task.namespaceId, key);
          this.outstanding.delete(keyId(key));
          this.log.debug({ namespaceId: task.namespaceId, task: task.type, taskId: task.taskId.toString() }, 'task parked: namespace not active here');
          return 'parked';
        }
        const level = attempt < 5 ? 'debug' : 'warn';
        this.log[level]({ err, task: task.type, taskId: task.taskId.toString(), attempt }, 'task failed; retrying');
        await sleep(Math.min(100 * 2 ** attempt, 10_000), this.stopping.signal);
      }
    }
    return 'dropped';
  }

  /** Called when a task is done, before the ack level may pass it. */
  protected finished(key: TaskKey): void {
    this.outstanding.delete(keyId(key));
    this.doneCount++;
  }

  /** The slow safety net for a change notification that never came: each parked namespace is probed. */
  private recheckParked(): void {
    for (const namespaceId of this.parked.namespaces()) void this.reread(namespaceId);
  }

  /**
   * Reads a namespace's parked range again. Its first task is a probe: if it parks again the
   * namespace is still passive and the range goes back as it was; otherwise every task of the
   * namespace in the range runs.
   */
  private async reread(namespaceId: string): Promise<void> {
    const range = this.parked.take(namespaceId);
    if (!range) return;
    this.rereads.add(range);
    let probed = false;
    try {
      for (let after = predecessor(range.low); !this.stopped; ) {
        const page = await this.read(after, range.high, READ_BATCH);
        for (const task of page) {
          after = this.keyOf(task);
          if (task.namespaceId !== namespaceId || !this.track(task)) {
            range.low = successor(after);
            continue;
          }
          if (probed) {
            range.low = successor(after);
            void this.runTracked(task);
            continue;
          }
          probed = true;
          const outcome = await this.runTracked(task);
          if (outcome === 'dropped') return;
          range.low = successor(after);
          if (outcome === 'parked') {
            this.parked.add(namespaceId, range.low, range.high);
            return;
          }
        }
        if (page.length < READ_BATCH) return;
      }
    } catch (err) {
      this.log.warn({ err, namespaceId }, 'reading parked tasks failed; the recheck retries');
      this.parked.add(namespaceId, range.low, range.high);
    } finally {
      if (!this.stopped) this.rereads.delete(range);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.shard.isLost) {
      this.notified = false;
      try {
        await this.pump();
      } catch (err) {
        this.log.warn({ err }, 'task queue read failed');
      }
      if (this.stopped) break;
      // A notification during the read may name tasks the read missed: read again at once.
      if (this.notified) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.config.queuePollIntervalMs);
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }
}
