// Routes in the global control plane's own Redis (not a region's: losing a region must not lose
// its routes). One hash holds every record, field = namespace, value = JSON(RouteRecord), so
// list() is one HGETALL. put() is one Lua script: compare the stored epoch, set, publish. Redis
// runs a script alone, so two controllers writing at once can never both win with the same epoch.
// Readers are routers: a command fails fast while Redis is unreachable (no offline queue) so a
// router serves from what it last read instead of waiting.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../common/logger.js';
import { byNamespace, staleEpoch, validRoute, type RouteRecord, type RouteRegistry } from './route.js';

export interface RedisRouteRegistryConfig {
  /** redis://host:port[/db] of the global control plane's Redis. */
  redisUrl: string;
  /** First segment of the hash and channel names. */
  keyPrefix: string;
  /** A command that takes longer fails (the caller falls back to what it has). */
  commandTimeoutMs: number;
  /** start() waits this long for the first connection, then goes on (commands fail until Redis answers). */
  connectWaitMs: number;
}

export const redisRouteDefaults = { keyPrefix: 'tandem', commandTimeoutMs: 1000, connectWaitMs: 5000 } as const;

export function redisRouteConfig(input: Pick<RedisRouteRegistryConfig, 'redisUrl'> & Partial<RedisRouteRegistryConfig>): RedisRouteRegistryConfig {
  const c: RedisRouteRegistryConfig = { ...redisRouteDefaults, ...input };
  let url: URL | undefined;
  try {
    url = new URL(c.redisUrl);
  } catch {
    // reported below
  }
  if (url?.protocol !== 'redis:') throw new Error(`routes.redisUrl must be redis://host:port, got ${JSON.stringify(c.redisUrl)}`);
  if (!/^[A-Za-z0-9_.-]+$/.test(c.keyPrefix)) throw new Error(`routes.keyPrefix must be a plain name, got ${JSON.stringify(c.keyPrefix)}`);
  for (const k of ['commandTimeoutMs', 'connectWaitMs'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`routes.${k} must be a positive integer, got ${c[k]}`);
  }
  return c;
}

// KEYS: hash, channel. ARGV: namespace, epoch, JSON(record). Returns -1 when stored, else the stored epoch.
const PUT_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local stored = cjson.decode(current).epoch
  if tonumber(ARGV[2]) <= stored then return stored end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[3])
return -1
`;

export class RedisRouteRegistry implements RouteRegistry {
  readonly config: RedisRouteRegistryConfig;
  private readonly log: Logger;
  private readonly hash: string;
  private readonly channel: string;
  private readonly listeners = new Set<(record: RouteRecord) => void>();
  private client?: Redis;
  private subscriber?: Redis;

  constructor(config: Pick<RedisRouteRegistryConfig, 'redisUrl'> & Partial<RedisRouteRegistryConfig>, logger: Logger) {
    this.config = redisRouteConfig(config);
    this.hash = `${this.config.keyPrefix}:routes`;
    this.channel = `${this.config.keyPrefix}:routes:events`;
    this.log = logger.child({ component: 'routes' });
  }

  async start(): Promise<void> {
    if (this.client) return;
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.config.commandTimeoutMs,
      commandTimeout: this.config.commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    };
    const client = new Redis(this.config.redisUrl, options);
    client.on('error', (err: Error) => this.log.debug({ err: err.message }, 'routes redis connection error'));
    // The subscriber queues its SUBSCRIBE until connected; ioredis re-subscribes after a reconnect.
    const subscriber = new Redis(this.config.redisUrl, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    subscriber.on('error', (err: Error) => this.log.debug({ err: err.message }, 'routes redis subscriber error'));
    subscriber.on('message', (_channel: string, message: string) => this.deliver(message));
    this.client = client;
    this.subscriber = subscriber;
    const ready = await Promise.race([
      Promise.all([
        new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', () => resolve()))),
        subscriber.subscribe(this.channel),
      ]).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), this.config.connectWaitMs).unref()),
    ]);
    if (!ready) this.log.warn({ redisUrl: this.config.redisUrl }, 'routes redis not reachable yet; retrying in the background');
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    this.client?.disconnect();
    this.subscriber?.disconnect();
    this.client = undefined;
    this.subscriber = undefined;
  }

  async get(namespace: string): Promise<RouteRecord | undefined> {
    const raw = await this.redis().hget(this.hash, namespace);
    return raw === null ? undefined : this.parse(raw);
  }

  async list(): Promise<RouteRecord[]> {
    const all = await this.redis().hgetall(this.hash);
    return Object.values(all)
      .map((raw) => this.parse(raw))
      .filter((r): r is RouteRecord => r !== undefined)
      .sort(byNamespace);
  }

  async put(record: RouteRecord): Promise<void> {
    const next = validRoute(record);
    const stored = await this.redis().eval(PUT_SCRIPT, 2, this.hash, this.channel, next.namespace, String(next.epoch), JSON.stringify(next));
    if (Number(stored) !== -1) throw staleEpoch(next, Number(stored));
  }

  watch(listener: (record: RouteRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private redis(): Redis {
    if (!this.client) throw new Error('RedisRouteRegistry is not started');
    return this.client;
  }

  private deliver(message: string): void {
    const record = this.parse(message);
    if (!record) return;
    for (const l of [...this.listeners]) {
      try {
        l(record);
      } catch (err) {
        this.log.error({ err }, 'route listener threw');
      }
    }
  }

  /** A record some other tool wrote by hand may be broken: it is skipped, never served. */
  private parse(raw: string): RouteRecord | undefined {
    try {
      return validRoute(JSON.parse(raw) as RouteRecord);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'ignoring a malformed route record');
      return undefined;
    }
  }
}
