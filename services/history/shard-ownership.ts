// Which shards this history node should own, decided by membership: rendezvous hashing over the
// live history members. Membership only proposes; the range_id bump in ShardController.acquire is
// what makes the node the owner and fences the previous one (DESIGN invariant 2), so two nodes
// with different views cannot both write a shard, they only take it from each other.
import type { Logger } from '../common/logger.js';
import type { Service } from '../common/lifecycle.js';
import type { Membership } from '../membership/membership.js';
import { shardOwner } from '../membership/rendezvous.js';
import type { ShardController } from './shard-controller.js';

export interface ShardOwnershipConfig {
  /** Re-decide this often even without a membership event, so a missed event cannot strand a shard. */
  recheckMs: number;
  /** First retry delay of a failed acquisition; doubles per failure up to retryMaxMs. */
  retryMinMs: number;
  retryMaxMs: number;
  /**
   * Wait before taking back a shard another node fenced us out of while membership still assigns
   * it here: gives membership time to settle (a paused node learns it was replaced). Doubles per
   * consecutive loss up to retryMaxMs.
   */
  reacquireDelayMs: number;
  /** Acquisitions in flight at once (each is a conditional write). */
  acquireConcurrency: number;
}

export const shardOwnershipDefaults: ShardOwnershipConfig = {
  recheckMs: 3000,
  retryMinMs: 200,
  retryMaxMs: 10_000,
  reacquireDelayMs: 1000,
  acquireConcurrency: 4,
};

export interface ShardOwnershipOptions {
  membership: Membership;
  controller: ShardController;
  numShards: number;
  logger: Logger;
  config?: Partial<ShardOwnershipConfig>;
}

export function compileShardOwnershipConfig(user: Partial<ShardOwnershipConfig> = {}): ShardOwnershipConfig {
  const c = { ...shardOwnershipDefaults, ...user };
  for (const k of Object.keys(shardOwnershipDefaults) as (keyof ShardOwnershipConfig)[]) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`shardOwnership.${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.retryMinMs > c.retryMaxMs) throw new Error(`shardOwnership.retryMinMs (${c.retryMinMs}) exceeds retryMaxMs (${c.retryMaxMs})`);
  return c;
}

interface Backoff {
  failures: number;
  notBeforeMs: number;
}

export class ShardOwnership implements Service {
  readonly config: ShardOwnershipConfig;
  private readonly membership: Membership;
  private readonly controller: ShardController;
  private readonly numShards: number;
  private readonly log: Logger;
  /** Shards not to be acquired before a time: after a failed acquisition or a loss. */
  private readonly backoff = new Map<number, Backoff>();
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private recheckTimer?: NodeJS.Timeout;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAtMs = Infinity;

  constructor(opts: ShardOwnershipOptions) {
    if (!Number.isInteger(opts.numShards) || opts.numShards < 1) throw new Error(`shardOwnership.numShards must be a positive integer, got ${opts.numShards}`);
    this.config = compileShardOwnershipConfig(opts.config);
    this.membership = opts.membership;
    this.controller = opts.controller;
    this.numShards = opts.numShards;
    this.log = opts.logger.child({ component: 'shard-ownership', node: opts.membership.self.id });
  }

  /** Resolves after the first pass: every assigned shard was tried once (failures retry in the background). */
  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribe = this.membership.onChange(() => {
      // New information: what was waiting out a failure or a loss is decided again at once.
      this.backoff.clear();
      void this.reconcile();
    });
    this.recheckTimer = setInterval(() => void this.reconcile(), this.config.recheckMs);
    await this.reconcile();
  }

  /** Stops deciding and gives every shard up (the node is leaving; membership moves them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.recheckTimer);
    clearTimeout(this.wakeTimer);
    this.wakeAtMs = Infinity;
    await this.running;
    this.controller.releaseAll();
    this.backoff.clear();
  }

  /** The shards rendezvous assigns to this node under its current view. */
  assignedShards(): number[] {
    const members = this.membership.members('history');
    const self = this.membership.self.id;
    const out: number[] = [];
    for (let id = 0; id < this.numShards; id++) if (shardOwner(id, members)?.id === self) out.push(id);
    return out;
  }

  /** Runs one decision pass; a request during a pass runs one more pass after it. */
  reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          this.log.error({ err }, 'shard ownership pass failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    const assigned = new Set(this.assignedShards());
    const released: number[] = [];
    for (const id of this.controller.ownedShardIds) {
      if (!assigned.has(id)) {
        this.controller.release(id);
        released.push(id);
      }
    }
    for (const id of this.backoff.keys()) if (!assigned.has(id)) this.backoff.delete(id);

    const now = Date.now();
    const todo: number[] = [];
    for (const id of assigned) {
      const shard = this.controller.getShard(id);
      if (shard && !shard.isLost) continue;
      const notBefore = this.backoff.get(id)?.notBeforeMs ?? 0;
      if (notBefore <= now) todo.push(id);
      else this.wakeAt(notBefore);
    }
    const acquired: number[] = [];
    const next = () => todo.shift();
    const worker = async () => {
      for (let id = next(); id !== undefined && !this.stopped; id = next()) {
        if (await this.acquire(id)) acquired.push(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.acquireConcurrency, todo.length) }, worker));
    if (released.length > 0 || acquired.length > 0) {
      this.log.info({ acquired: acquired.sort((a, b) => a - b), released, owned: this.controller.ownedShardIds.length }, 'shard ownership changed');
    }
  }

  private async acquire(id: number): Promise<boolean> {
    try {
      const shard = await this.controller.acquire(id);
      this.backoff.delete(id);
      shard.onLost(() => this.lost(id));
      if (this.stopped) this.controller.release(id);
      return true;
    } catch (err) {
      const delay = this.delay(id, this.config.retryMinMs);
      this.log.warn({ shard: id, err, retryInMs: delay }, 'shard acquisition failed');
      return false;
    }
  }

  /** Another node fenced us out. If membership still says the shard is ours, take it back later. */
  private lost(id: number): void {
    if (this.stopped || !this.assignedShards().includes(id)) return;
    const delay = this.delay(id, this.config.reacquireDelayMs);
    this.log.warn({ shard: id, retryInMs: delay }, 'shard fenced by another node while assigned here; re-acquiring after a delay');
  }

  /** Records one more failure of the shard and schedules the pass that retries it. */
  private delay(id: number, base: number): number {
    const failures = (this.backoff.get(id)?.failures ?? 0) + 1;
    const ms = Math.min(base * 2 ** (failures - 1), this.config.retryMaxMs);
    this.backoff.set(id, { failures, notBeforeMs: Date.now() + ms });
    this.wakeAt(Date.now() + ms);
    return ms;
  }

  private wakeAt(atMs: number): void {
    if (this.stopped || atMs >= this.wakeAtMs) return;
    clearTimeout(this.wakeTimer);
    this.wakeAtMs = atMs;
    this.wakeTimer = setTimeout(() => {
      this.wakeAtMs = Infinity;
      void this.reconcile();
    }, Math.max(0, atMs - Date.now()));
  }
}
