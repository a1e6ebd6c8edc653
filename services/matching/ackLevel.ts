// Which stored tasks of one subqueue are done. The reader loads tasks in level order, but a task
// written below what was read joins in between, and tasks finish in any order: the ack level is
// the highest level at or below which every task is done, so a new owner reading above it never
// skips a task (it may redeliver a few finished ones: history answers TASK_NOT_FOUND for those and
// they are dropped).
import { compareLevels, insertionIndex, type TaskLevel } from './task-level.js';

interface Entry {
  readonly level: TaskLevel;
  done: boolean;
}

export class AckLevelTracker {
  /** Tasks above the ack level that are in memory, being written, or done, by level. */
  private entries: Entry[] = [];
  private readonly byId = new Map<bigint, Entry>();
  private acked: TaskLevel;
  private read: TaskLevel;

  constructor(ackLevel: TaskLevel) {
    this.acked = ackLevel;
    this.read = ackLevel;
  }

  /** Every stored task at or below the read level is known here (or behind the ack level). */
  get readLevel(): TaskLevel {
    return this.read;
  }

  get ackLevel(): TaskLevel {
    return this.acked;
  }

  /** A task read already, or being written: a read that meets it again skips it. */
  has(taskId: bigint): boolean {
    return this.byId.has(taskId);
  }

  /**
   * A task in memory (read, or written and kept) or being written: until it is removed or done,
   * the ack level stays below it, so a delete up to the ack level cannot take it.
   */
  add(level: TaskLevel): void {
    const entry = { level, done: false };
    this.entries.splice(insertionIndex(this.entries, level, (e) => e.level), 0, entry);
    this.byId.set(level.taskId, entry);
  }

  /** A task whose write failed: it holds nothing back any more. */
  remove(level: TaskLevel): void {
    this.forget(level);
    this.advance();
  }

  /**
   * Tasks let go from memory, to be read again: the read level first drops to `readLevel`, below
   * them, so the ack level cannot pass them on the way.
   */
  letGo(levels: TaskLevel[], readLevel: TaskLevel): void {
    this.read = readLevel;
    for (const level of levels) this.forget(level);
    this.advance();
  }

  finish(level: TaskLevel): void {
    const entry = this.byId.get(level.taskId);
    if (!entry) return;
    entry.done = true;
    this.advance();
  }

  /** The reader knows every stored task up to `level`. */
  setReadLevel(level: TaskLevel): void {
    this.read = level;
    this.advance();
  }

  private forget(level: TaskLevel): void {
    const entry = this.byId.get(level.taskId);
    if (!entry) return;
    this.byId.delete(level.taskId);
    this.entries.splice(this.entries.indexOf(entry), 1);
  }

  private advance(): void {
    let passed = 0;
    while (passed < this.entries.length) {
      const e = this.entries[passed]!;
      if (!e.done || compareLevels(e.level, this.read) > 0) break;
      this.acked = e.level;
      this.byId.delete(e.level.taskId);
      passed++;
    }
    if (passed > 0) this.entries = this.entries.slice(passed);
    // Nothing left at or below the read level: all of it is done.
    const next = this.entries[0];
    if ((!next || compareLevels(next.level, this.read) > 0) && compareLevels(this.read, this.acked) > 0) this.acked = this.read;
  }
}
