// Membership of one region in its Redis. Each node keeps one key alive:
//   <keyPrefix>:<region>:members:<role>:<id> = JSON(Member), SET ... PX ttlMs, refreshed every heartbeatMs.
// Key-per-member with PX rather than a sorted set scored by expiry time: Redis expires a key on
// its own clock, so node clock skew cannot keep a dead node alive or drop a live one, and nobody
// has to trim the set. Listing is SCAN MATCH + MGET, cheap on a Redis that holds only a region's
// members. Every node polls at pollMs (expiries are seen within ttlMs + pollMs); joins and
// graceful leaves are also published on a channel so the others re-read at once.
// A Redis outage never fails the node: the last known view stays, failures are logged once per
// outage, and heartbeats and polls keep retrying.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../common/logger.js';
import { sleep } from '../common/lifecycle.js';
import type { Member, Membership, Role } from './membership.js';

const ROLES: readonly Role[] = ['history', 'matching', 'frontend'];
const NAME = /^[A-Za-z0-9_.-]+$/;

export interface RedisMembershipConfig {
  /** redis://host:port[/db] of the region's membership Redis. */
  redisUrl: string;
  /** The region this node belongs to: every key lives under it. */
  region: string;
  self: Member;
  /** A member whose key is not refreshed for this long is gone. */
  ttlMs: number;
  /** How often the key is refreshed; at most ttlMs / 2 so one late beat does not expire it. */
  heartbeatMs: number;
  /** How often the live set is re-read. */
  pollMs: number;
  /** First segment of every key and channel. */
  keyPrefix: string;
}

export type RedisMembershipInput = Pick<RedisMembershipConfig, 'redisUrl' | 'region' | 'self'> & Partial<RedisMembershipConfig>;

export const redisMembershipDefaults = { ttlMs: 5000, pollMs: 1000, keyPrefix: 'tandem' } as const;

export function compileRedisMembershipConfig(input: RedisMembershipInput): RedisMembershipConfig {
  const ttlMs = input.ttlMs ?? redisMembershipDefaults.ttlMs;
  const c: RedisMembershipConfig = {
    ...redisMembershipDefaults,
    heartbeatMs: Math.max(1, Math.floor(ttlMs / 3)),
    ...input,
    ttlMs,
  };
  const bad = (what: string) => new Error(`membership.${what}`);
  try {
    const u = new URL(c.redisUrl);
    if (u.protocol !== 'redis:') throw new Error();
  } catch {
    throw bad(`redisUrl must be redis://host:port, got ${JSON.stringify(c.redisUrl)}`);
  }
  for (const [k, v] of [['region', c.region], ['keyPrefix', c.keyPrefix], ['self.id', c.self.id]] as const) {
    // Names go into SCAN patterns: no glob characters, no ':' (the key separator).
    if (!NAME.test(v)) throw bad(`${k} must match ${NAME}, got ${JSON.stringify(v)}`);
  }
  if (!ROLES.includes(c.self.role)) throw bad(`self.role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(c.self.role)}`);
  if (!c.self.address) throw bad('self.address is required');
  for (const k of ['ttlMs', 'heartbeatMs', 'pollMs'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw bad(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.heartbeatMs * 2 > c.ttlMs) throw bad(`heartbeatMs (${c.heartbeatMs}) must be at most ttlMs / 2 (${c.ttlMs / 2})`);
  return c;
}

function byId(a: Member, b: Member): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function signature(members: Member[]): string {
  return members.map((m) => `${m.role}/${m.id}@${m.address}#${m.startedAtMs}`).join(',');
}

function parseMember(raw: string): Member | null {
  try {
    const m = JSON.parse(raw) as Partial<Member>;
    if (typeof m.id !== 'string' || typeof m.address !== 'string' || typeof m.startedAtMs !== 'number') return null;
    if (!ROLES.includes(m.role as Role)) return null;
    return { id: m.id, role: m.role as Role, address: m.address, startedAtMs: m.startedAtMs };
  } catch {
    return null;
  }
}

/** Runs fn every ms (from the end of one run to the start of the next) until stopped. */
class Loop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private kicked = false;
  private stopped = false;

  constructor(
    private readonly ms: number,
    private readonly fn: () => Promise<unknown>,
  ) {}

  start(): void {
    this.schedule(this.ms);
  }

  /** Runs now, or right after the run in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.kicked = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.running = this.fn().then(
      () => undefined,
      () => undefined,
    );
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(this.kicked ? 0 : this.ms);
    this.kicked = false;
  }
}

export class RedisMembership implements Membership {
  readonly config: RedisMembershipConfig;
  readonly self: Member;
  private readonly log: Logger;
  private readonly key: string;
  private readonly pattern: string;
  private readonly channel: string;
  private readonly listeners = new Set<() => void>();
  /** The last known live set, every role, sorted by id; self is always in it. */
  private view: Member[];
  private client?: Redis;
  private subscriber?: Redis;
  private heartbeats?: Loop;
  private polls?: Loop;
  private readonly stopping = new AbortController();
  /** When the client last (re)connected: see poll() for why it matters. */
  private readyAtMs = 0;
  private outageSinceMs: number | null = null;

  constructor(config: RedisMembershipInput, logger: Logger) {
    this.config = compileRedisMembershipConfig(config);
    this.self = this.config.self;
    const base = `${this.config.keyPrefix}:${this.config.region}:members`;
    this.key = `${base}:${this.self.role}:${this.self.id}`;
    this.pattern = `${base}:*`;
    this.channel = `${base}:events`;
    this.view = [this.self];
    this.log = logger.child({ component: 'membership', region: this.config.region, member: this.self.id });
  }

  /** Registers this node and resolves after the first read of the live set (retrying while Redis is unreachable). */
  async start(): Promise<void> {
    if (this.stopping.signal.aborted) throw new Error('a stopped RedisMembership cannot start again; make a new one');
    const options: RedisOptions = {
      // Fail fast while disconnected: a queued heartbeat would be stale by the time it ran.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.config.ttlMs,
      commandTimeout: this.config.ttlMs,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    };
    const client = new Redis(this.config.redisUrl, options);
    this.client = client;
    client.on('error', (err: Error) => this.log.debug({ err: err.message }, 'membership redis connection error'));
    client.on('ready', () => {
      this.readyAtMs = Date.now();
      this.heartbeats?.kick();
    });

    // The subscriber may queue its SUBSCRIBE until connected; ioredis re-subscribes after a reconnect.
    const subscriber = new Redis(this.config.redisUrl, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    this.subscriber = subscriber;
    subscriber.on('error', (err: Error) => this.log.debug({ err: err.message }, 'membership redis subscriber error'));
    subscriber.on('message', (_channel: string, message: string) => {
      const [event, id] = message.split(' ');
      if (id === this.self.id) return;
      // A leave is final at once (also inside the reconnect grace of poll()); a join is read back.
      if (event === 'leave') this.apply(this.view.filter((m) => m.id !== id));
      this.polls?.kick();
    });
    void subscriber.subscribe(this.channel).catch((err: Error) => this.log.warn({ err: err.message }, 'membership subscribe failed'));

    this.heartbeats = new Loop(this.config.heartbeatMs, () => this.heartbeat());
    this.polls = new Loop(this.config.pollMs, () => this.poll());
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      if ((await this.heartbeat()) && (await this.poll())) break;
      await sleep(Math.min(100 * attempt, 2000), this.stopping.signal);
    }
    if (this.stopping.signal.aborted) return;
    await this.publish('join');
    this.heartbeats.start();
    this.polls.start();
    this.log.info({ key: this.key, members: this.view.map((m) => m.id) }, 'joined membership');
  }

  /** Graceful leave: the key is deleted and the others are told at once. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.heartbeats?.stop(), this.polls?.stop()]);
    const client = this.client;
    if (!client) return;
    try {
      await client.del(this.key);
      await this.publish('leave');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'membership leave not written; the key expires in ttlMs');
    }
    client.disconnect();
    this.subscriber?.disconnect();
    this.client = undefined;
    this.subscriber = undefined;
  }

  members(role: Role): Member[] {
    return this.view.filter((m) => m.role === role);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async heartbeat(): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    try {
      await this.client!.set(this.key, JSON.stringify(this.self), 'PX', this.config.ttlMs);
      this.recovered();
      return true;
    } catch (err) {
      this.failed('heartbeat', err as Error);
      return false;
    }
  }

  private async poll(): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    let found: Member[];
    try {
      found = await this.readMembers();
      this.recovered();
    } catch (err) {
      this.failed('poll', err as Error);
      return false;
    }
    // Our own key can be missing after a pause longer than ttlMs or a Redis restart: re-register now.
    if (!found.some((m) => m.id === this.self.id)) this.heartbeats?.kick();
    const next = new Map<string, Member>(found.map((m) => [m.id, m]));
    next.set(this.self.id, this.self);
    // Right after a reconnect the others may not have re-registered yet (a restarted Redis is
    // empty): members we knew are kept for one ttl instead of being dropped and re-added.
    if (Date.now() - this.readyAtMs < this.config.ttlMs) {
      for (const m of this.view) if (!next.has(m.id)) next.set(m.id, m);
    }
    this.apply([...next.values()].sort(byId));
    return true;
  }

  private async readMembers(): Promise<Member[]> {
    const client = this.client!;
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [nextCursor, batch] = await client.scan(cursor, 'MATCH', this.pattern, 'COUNT', 500);
      cursor = nextCursor;
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
    if (keys.size === 0) return [];
    const names = [...keys];
    const values = await client.mget(names);
    const members: Member[] = [];
    values.forEach((raw, i) => {
      // null: the key expired between SCAN and MGET.
      if (raw === null) return;
      const m = parseMember(raw);
      if (m && names[i] === `${this.pattern.slice(0, -1)}${m.role}:${m.id}`) members.push(m);
      else this.log.warn({ key: names[i] }, 'ignoring a malformed membership key');
    });
    return members;
  }

  private apply(next: Member[]): void {
    if (signature(next) === signature(this.view)) return;
    const before = new Set(this.view.map((m) => m.id));
    const after = new Set(next.map((m) => m.id));
    this.view = next;
    this.log.info(
      { joined: [...after].filter((id) => !before.has(id)), left: [...before].filter((id) => !after.has(id)), members: [...after] },
      'membership changed',
    );
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch (err) {
        this.log.error({ err }, 'membership listener threw');
      }
    }
  }

  private async publish(event: 'join' | 'leave'): Promise<void> {
    try {
      await this.client!.publish(this.channel, `${event} ${this.self.id}`);
    } catch (err) {
      // Polling finds the change anyway.
      this.log.debug({ err: (err as Error).message, event }, 'membership publish failed');
    }
  }

  private failed(what: string, err: Error): void {
    if (this.outageSinceMs !== null) return;
    this.outageSinceMs = Date.now();
    this.log.warn({ err: err.message, what }, 'membership redis unreachable; keeping the last known members and retrying');
  }

  private recovered(): void {
    if (this.outageSinceMs === null) return;
    this.log.info({ outageMs: Date.now() - this.outageSinceMs }, 'membership redis reachable again');
    this.outageSinceMs = null;
  }
}
