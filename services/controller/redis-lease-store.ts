// Leases in the global control plane's Redis: `<prefix>:lease:<name>` = "<term>:<holder>" with
// PX ttl, so Redis's clock expires them; renew and release are compare-and-act Lua scripts (only
// the holder's own value matches); terms come from an INCR counter that never goes back.
import { Redis } from 'ioredis';
import type { Lease, LeaseStore } from './leader-lease.js';

const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, ':')
  if string.sub(v, sep + 1) ~= ARGV[1] then return false end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return v
end
local term = redis.call('INCR', KEYS[2])
local value = term .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return value`;

const RENEW = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local sep = string.find(v, ':')
if string.sub(v, sep + 1) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local sep = string.find(v, ':')
if string.sub(v, sep + 1) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

export class RedisLeaseStore implements LeaseStore {
  private readonly redis: Redis;

  /** redisUrl: redis://host:port of the control plane's Redis; keyPrefix scopes every key. */
  constructor(redisUrl: string, private readonly keyPrefix = 'tandem') {
    // A lease call must fail fast when Redis is gone: a leader that cannot renew steps down.
    this.redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  }

  async connect(): Promise<void> {
    await this.redis.connect();
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const v = (await this.redis.eval(ACQUIRE, 2, this.key(name), `${this.key(name)}:term`, holder, String(ttlMs))) as string | null;
    if (!v) return null;
    return { holder, term: Number(v.slice(0, v.indexOf(':'))) };
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key(name), holder, String(ttlMs))) === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(name), holder);
  }

  async current(name: string): Promise<Lease | null> {
    const v = await this.redis.get(this.key(name));
    if (!v) return null;
    const sep = v.indexOf(':');
    return { holder: v.slice(sep + 1), term: Number(v.slice(0, sep)) };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private key(name: string): string {
    return `${this.keyPrefix}:lease:${name}`;
  }
}
