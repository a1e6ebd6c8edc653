// When is a region down (DESIGN invariant 10)? Only when observers in at least `quorum` different
// failure domains have each seen it unhealthy, with no healthy sighting since, for `downAfterMs`.
// One partitioned observer (or one whole failure domain) can never declare a region down, and a
// cut between two regions alone is seen by at most the two regions' own domains.

export interface Observation {
  observer: string;
  failureDomain: string;
  region: string;
  healthy: boolean;
  atMs: number;
}

export interface VerdictConfig {
  /** Distinct failure domains that must agree a region is down. */
  quorum: number;
  /** How long each of them must have seen it unhealthy without a healthy probe in between. */
  downAfterMs: number;
  /** A domain whose newest observation of the region is older than this has no vote. */
  staleAfterMs: number;
}

export type Verdict = 'up' | 'down' | 'suspect';

/** One domain's view of one region: its newest observation, and since when it has been unhealthy. */
interface DomainView {
  lastAtMs: number;
  unhealthySinceMs: number | null;
}

export function validateVerdictConfig(c: VerdictConfig): VerdictConfig {
  if (!Number.isInteger(c.quorum) || c.quorum < 2) throw new Error(`controller.quorum must be an integer >= 2 (one domain must never decide alone), got ${c.quorum}`);
  if (!(c.downAfterMs > 0)) throw new Error(`controller.downAfterMs must be > 0, got ${c.downAfterMs}`);
  if (!(c.staleAfterMs > 0)) throw new Error(`controller.staleAfterMs must be > 0, got ${c.staleAfterMs}`);
  return c;
}

export class RegionVerdicts {
  private readonly views = new Map<string, Map<string, DomainView>>();

  constructor(private readonly config: VerdictConfig) {
    validateVerdictConfig(config);
  }

  observe(o: Observation): void {
    let byDomain = this.views.get(o.region);
    if (!byDomain) this.views.set(o.region, (byDomain = new Map()));
    const view = byDomain.get(o.failureDomain);
    // Observations may arrive out of order (several observers per domain, network delays).
    if (view && view.lastAtMs > o.atMs) return;
    const unhealthySinceMs = o.healthy ? null : (view?.unhealthySinceMs ?? o.atMs);
    byDomain.set(o.failureDomain, { lastAtMs: o.atMs, unhealthySinceMs });
  }

  /** 'down' needs the quorum for the whole window; 'suspect' when some fresh domain sees it unhealthy. */
  verdict(region: string, nowMs: number): Verdict {
    const byDomain = this.views.get(region);
    if (!byDomain) return 'up';
    let longEnough = 0;
    let unhealthy = 0;
    for (const view of byDomain.values()) {
      if (view.lastAtMs < nowMs - this.config.staleAfterMs || view.unhealthySinceMs === null) continue;
      unhealthy++;
      if (view.unhealthySinceMs <= nowMs - this.config.downAfterMs) longEnough++;
    }
    if (longEnough >= this.config.quorum) return 'down';
    return unhealthy > 0 ? 'suspect' : 'up';
  }

  /** The failure domains whose fresh view of the region is unhealthy (for the audit log). */
  accusers(region: string, nowMs: number): string[] {
    const byDomain = this.views.get(region) ?? new Map<string, DomainView>();
    return [...byDomain.entries()]
      .filter(([, v]) => v.lastAtMs >= nowMs - this.config.staleAfterMs && v.unhealthySinceMs !== null)
      .map(([domain]) => domain)
      .sort();
  }
}
