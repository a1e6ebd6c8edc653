// One leader among the controller's replicas (DESIGN: "replicas, one leader by lease"). A lease is
// a key that only its holder can renew or release, and that expires on the store's clock, so a
// paused or partitioned leader loses it without anyone's help. Each acquisition gets a new term,
// growing, so actions can be fenced by it. Two implementations: Redis (the global control plane)
// and in-memory (`make dev`, one process).

export interface Lease {
  holder: string;
  /** Grows with every new acquisition of the lease, across holders. */
  term: number;
}

export interface LeaseStore {
  /** Takes the lease when free (or already ours: renews it); null when another holder has it. */
  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extends our lease; false when it expired or another holder took it. */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if we hold it, so a successor need not wait for the expiry. */
  release(name: string, holder: string): Promise<void>;
  /** Who holds the lease now (for the operations page); null when nobody does. */
  current(name: string): Promise<Lease | null>;
  close(): Promise<void>;
}

/** The in-process store: leases live in a map and expire on this process's clock. */
export class InMemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { holder: string; term: number; expiresAtMs: number }>();
  private terms = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const now = this.clock();
    const current = this.leases.get(name);
    if (current && current.expiresAtMs > now && current.holder !== holder) return null;
    const term = current && current.expiresAtMs > now ? current.term : ++this.terms;
    this.leases.set(name, { holder, term, expiresAtMs: now + ttlMs });
    return { holder, term };
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    const current = this.leases.get(name);
    if (!current || current.holder !== holder || current.expiresAtMs <= now) return false;
    current.expiresAtMs = now + ttlMs;
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  async current(name: string): Promise<Lease | null> {
    const l = this.leases.get(name);
    return l && l.expiresAtMs > this.clock() ? { holder: l.holder, term: l.term } : null;
  }

  async close(): Promise<void> {}
}
