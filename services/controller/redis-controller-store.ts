// The controller's shared state in the global control plane's Redis: `<prefix>:controller:reports`
// (a hash, field `<observer>/<region>`, the report as JSON) and `<prefix>:controller:evacuated`
// (a hash namespace -> home). Reports carry their own time: the leader ignores stale ones, so a
// dead observer's last report needs no cleanup to lose its vote.
import { Redis } from 'ioredis';
import type { ControllerStore, ObserverReport } from './controller-store.js';

// Newer-only write: two observers never share a field, but a slow write may land after a newer one.
const PUT_REPORT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local ok, prior = pcall(cjson.decode, old)
  if ok and tonumber(prior.atMs) > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

export class RedisControllerStore implements ControllerStore {
  private readonly redis: Redis;

  /** redisUrl: redis://host:port of the control plane's Redis; keyPrefix scopes every key. */
  constructor(redisUrl: string, private readonly keyPrefix = 'tandem') {
    // Fail fast: an observer that cannot report must not queue stale reports for later.
    this.redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  }

  async connect(): Promise<void> {
    await this.redis.connect();
  }

  async putReport(report: ObserverReport): Promise<void> {
    await this.redis.eval(PUT_REPORT, 1, this.key('reports'), `${report.observer}/${report.region}`, JSON.stringify(report), String(report.atMs));
  }

  async reports(): Promise<ObserverReport[]> {
    const all = await this.redis.hvals(this.key('reports'));
    return all.map((v) => JSON.parse(v) as ObserverReport);
  }

  async markEvacuated(namespace: string, home: string): Promise<void> {
    await this.redis.hsetnx(this.key('evacuated'), namespace, home);
  }

  async evacuations(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key('evacuated'))));
  }

  async clearEvacuated(namespace: string): Promise<void> {
    await this.redis.hdel(this.key('evacuated'), namespace);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private key(what: string): string {
    return `${this.keyPrefix}:controller:${what}`;
  }
}
