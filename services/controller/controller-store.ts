// What the controller's replicas share (DESIGN: the global control plane): every observer's newest
// report per region, so the leader decides from the views of every failure domain, not only its
// own; and which namespaces the controller moved away from home, so a new leader can still move
// them back. Two implementations: Redis (`tandem up`) and in-memory (`make dev`, tests).

/** One observer's newest probe of one region. */
export interface ObserverReport {
  observer: string;
  failureDomain: string;
  region: string;
  healthy: boolean;
  /** When the probe finished, on the observer's clock. */
  atMs: number;
  /** Start of the observer's current unhealthy streak (null when healthy): the verdict's window. */
  unhealthySinceMs: number | null;
  /** What failed, or what was measured ("health 2 ms, start 14 ms, describe 3 ms"). */
  detail: string;
  /** Replication lag from this region to each other region, when the observer could read it. */
  lag?: { target: string; tasks: number; seconds: number }[];
}

export interface ControllerStore {
  putReport(report: ObserverReport): Promise<void>;
  reports(): Promise<ObserverReport[]>;
  /** The controller moved namespace away from its home region (a region-down failover). */
  markEvacuated(namespace: string, home: string): Promise<void>;
  /** namespace -> home, for every namespace moved away and not back yet. */
  evacuations(): Promise<Map<string, string>>;
  clearEvacuated(namespace: string): Promise<void>;
  close(): Promise<void>;
}

export class InMemoryControllerStore implements ControllerStore {
  private readonly byKey = new Map<string, ObserverReport>();
  private readonly evacuated = new Map<string, string>();

  async putReport(report: ObserverReport): Promise<void> {
    const key = `${report.observer}/${report.region}`;
    const prior = this.byKey.get(key);
    if (!prior || prior.atMs <= report.atMs) this.byKey.set(key, report);
  }

  async reports(): Promise<ObserverReport[]> {
    return [...this.byKey.values()];
  }

  async markEvacuated(namespace: string, home: string): Promise<void> {
    // The first home wins: a namespace moved twice still belongs where it started.
    if (!this.evacuated.has(namespace)) this.evacuated.set(namespace, home);
  }

  async evacuations(): Promise<Map<string, string>> {
    return new Map(this.evacuated);
  }

  async clearEvacuated(namespace: string): Promise<void> {
    this.evacuated.delete(namespace);
  }

  async close(): Promise<void> {}
}
