// Group commit: an item submitted while a write is in flight waits for it, then goes with every
// other item that arrived meanwhile in the next write. The first item is written at once, so a
// lone caller waits no longer than before, and a busy one pays one round trip (one store batch,
// one RPC) for many items instead of one each.

/**
 * Writes a batch; it resolves with the items' own failures (undefined where the item succeeded)
 * when the batch can fail item by item, and rejects when it failed as a whole.
 */
export type GroupWrite<T> = (items: T[]) => Promise<readonly unknown[] | void>;

interface Submitted<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T> {
  private queued: Submitted<T>[] = [];
  private writing = false;

  /** maxBatch bounds one write (a store batch, a message). */
  constructor(
    private readonly write: GroupWrite<T>,
    private readonly maxBatch: number,
  ) {}

  /** A write is in flight, or items wait for one. */
  get busy(): boolean {
    return this.writing;
  }

  /** Resolves once the write that took the item succeeded for it. */
  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0, this.maxBatch);
      try {
        const failures = await this.write(batch.map((s) => s.item));
        batch.forEach((s, i) => {
          const failure = failures?.[i];
          if (failure === undefined) s.resolve();
          else s.reject(failure);
        });
      } catch (err) {
        for (const s of batch) s.reject(err);
      }
    }
    this.writing = false;
  }
}
