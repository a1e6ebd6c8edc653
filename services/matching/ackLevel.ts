// Which persisted tasks of a queue are done. The reader loads tasks in id order and they finish
// in any order; the ack level is the highest id at or below which every task has finished, so a
// new owner reloading from it never skips a task (it may redeliver a few finished ones: history
// answers TASK_NOT_FOUND for those and they are dropped).
export class AckLevelTracker {
  /** Loaded task ids in ascending order; `head` indexes the oldest one not yet finished. */
  private ids: bigint[] = [];
  private head = 0;
  private readonly finished = new Set<bigint>();
  private read: bigint;

  constructor(ackLevel: bigint) {
    this.read = ackLevel;
  }

  /** Every task id <= readLevel has been loaded or found not to exist. */
  get readLevel(): bigint {
    return this.read;
  }

  get ackLevel(): bigint {
    return this.head < this.ids.length ? this.ids[this.head] - 1n : this.read;
  }

  /** Loaded and not finished. */
  get outstanding(): number {
    return this.ids.length - this.head - this.finished.size;
  }

  /** A task the reader loaded. */
  loaded(taskId: bigint): void {
    if (taskId <= this.read) throw new Error(`ack tracker: task ${taskId} loaded at read level ${this.read}`);
    this.ids.push(taskId);
    this.read = taskId;
  }

  /** The reader examined every id up to readLevel; ids it did not load do not exist. */
  readUpTo(readLevel: bigint): void {
    if (readLevel > this.read) this.read = readLevel;
  }

  finish(taskId: bigint): void {
    this.finished.add(taskId);
    while (this.head < this.ids.length && this.finished.delete(this.ids[this.head])) this.head++;
    // Compact now and then so a long-lived queue does not keep every id it ever loaded.
    if (this.head === this.ids.length || (this.head > 1024 && this.head * 2 > this.ids.length)) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
  }
}
