// Where the parked tasks of each passive namespace lie in a queue. Only the range from the lowest
// to the highest parked key is kept, not the tasks: a standby may park a namespace's tasks for
// days, and reading the range again when the namespace changes costs less than holding them all.
import { compareKeys, type TaskKey } from './task-key.js';

/** Both ends inclusive. */
export interface KeyRange {
  low: TaskKey;
  high: TaskKey;
}

export class ParkedTasks {
  private readonly ranges = new Map<string, KeyRange>();

  /** Widens the namespace's range to cover [low, high]. */
  add(namespaceId: string, low: TaskKey, high: TaskKey = low): void {
    const r = this.ranges.get(namespaceId);
    if (!r) {
      this.ranges.set(namespaceId, { low, high });
      return;
    }
    if (compareKeys(low, r.low) < 0) r.low = low;
    if (compareKeys(high, r.high) > 0) r.high = high;
  }

  /** Removes and answers the namespace's range, for reading it again. */
  take(namespaceId: string): KeyRange | undefined {
    const r = this.ranges.get(namespaceId);
    this.ranges.delete(namespaceId);
    return r;
  }

  /** Whether key lies in the namespace's parked range: its task is the re-read's to run. */
  covers(namespaceId: string, key: TaskKey): boolean {
    const r = this.ranges.get(namespaceId);
    return r !== undefined && compareKeys(key, r.low) >= 0 && compareKeys(key, r.high) <= 0;
  }

  namespaces(): string[] {
    return [...this.ranges.keys()];
  }

  lowest(): TaskKey | undefined {
    let low: TaskKey | undefined;
    for (const r of this.ranges.values()) if (!low || compareKeys(r.low, low) < 0) low = r.low;
    return low;
  }
}
