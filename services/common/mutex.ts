/** A FIFO async lock: the writes of one shard, or the operations on one workflow, run one at a time. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  get pending(): number {
    return this.waiting;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    this.waiting++;
    try {
      await prev;
      return await fn();
    } finally {
      this.waiting--;
      release();
    }
  }
}

/** One Mutex per key, dropped when nobody holds or waits for it. */
export class KeyedMutex {
  private readonly locks = new Map<string, Mutex>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let m = this.locks.get(key);
    if (!m) {
      m = new Mutex();
      this.locks.set(key, m);
    }
    const lock = m;
    return lock.run(fn).finally(() => {
      if (lock.pending === 0 && this.locks.get(key) === lock) this.locks.delete(key);
    });
  }
}
