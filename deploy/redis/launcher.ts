// Runs Debian's redis-server as a detached process per named instance (one per region for
// membership, one for the global route registry). Nothing is persisted: membership and routes
// are rebuilt by their owners' heartbeats, so `--save '' --appendonly no`. The instance outlives
// the process that started it; its state folder (pidfile, log, instance.json) is found by name.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot } from '../cassandra/fetch.js';
import { livePidFromFile, spawnDaemon, stopIfRunning, waitUntilAnswering, withLockFile } from '../daemon.js';

const run = promisify(execFile);

export interface RedisStartOptions {
  /** Instance name: its state folder under `<cache>/redis-instances/`. */
  name: string;
  port: number;
  host?: string;
  /** Redis's working directory; defaults to the instance's state folder. */
  dataDir?: string;
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface RedisHandle {
  name: string;
  /** host:port */
  address: string;
  pid: number;
  /** True when start found the instance already running and reused it. */
  reused: boolean;
}

export interface RedisStatus {
  name: string;
  running: boolean;
  answering: boolean;
  pid: number | null;
  address: string | null;
  logFile: string;
}

interface InstanceRecord {
  name: string;
  host: string;
  port: number;
  dataDir: string;
}

const DEFAULTS = { host: '127.0.0.1', startTimeoutMs: 20_000, stopGraceMs: 10_000, lockWaitMs: 60_000 };

export function instanceDir(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`bad instance name ${JSON.stringify(name)}: use letters, digits, _ and -`);
  return join(cacheRoot(), 'redis-instances', name);
}

const files = (name: string) => {
  const dir = instanceDir(name);
  return { dir, record: join(dir, 'instance.json'), pid: join(dir, 'redis.pid'), log: join(dir, 'redis.log'), lock: join(dir, 'start.lock') };
};

function findRedisServer(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs) {
    const p = join(dir, 'redis-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

/**
 * The path of redis-server; installs Debian's package when it is missing and we are root.
 * Installing must not start the packaged system service: a policy-rc.d that denies every
 * start is put in place for the duration of the install (and removed after, if it was ours).
 */
export async function ensureRedisServer(log: (msg: string) => void = () => {}): Promise<string> {
  const found = findRedisServer();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('redis-server is not installed; install it with `apt-get install -y redis-server` (as root)');
  }
  log('redis-server missing: installing the Debian package redis-server');
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# Written by tandem deploy/redis: no service starts during install.\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const opts = { env, maxBuffer: 64 * 1024 * 1024 };
    await run('apt-get', ['update'], opts);
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], opts);
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  const installed = findRedisServer();
  if (!installed) throw new Error('apt-get installed redis-server but it is not on the PATH nor in /usr/bin');
  return installed;
}

function readRecord(name: string): InstanceRecord | null {
  const f = files(name).record;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as InstanceRecord) : null;
}

/** The instance's pid when it is alive and still a redis-server (pids get reused). */
function livePid(name: string): number | null {
  return livePidFromFile(files(name).pid, 'redis-server');
}

/** True when a RESP PING gets +PONG within a second. */
export function redisAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    s.once('error', () => done(false));
  });
}

/** Serializes starts of one name across processes (test files run in parallel). */
function withStartLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return withLockFile(files(name).lock, `redis ${name}`, DEFAULTS.lockWaitMs, fn);
}

/**
 * Starts the named instance and resolves once it answers PING. A running instance of that
 * name is reused whatever its port; a port taken by anything else fails the start.
 */
export async function startRedis(opts: RedisStartOptions): Promise<RedisHandle> {
  const log = opts.log ?? (() => {});
  const f = files(opts.name);
  const timeoutMs = opts.startTimeoutMs ?? DEFAULTS.startTimeoutMs;
  const binary = await ensureRedisServer(log);
  return withStartLock(opts.name, async () => {
    const existing = readRecord(opts.name);
    const pid = livePid(opts.name);
    if (pid !== null && existing) {
      await waitForPing(existing, pid, timeoutMs, f.log);
      return { name: opts.name, address: `${existing.host}:${existing.port}`, pid, reused: true };
    }
    const rec: InstanceRecord = {
      name: opts.name,
      host: opts.host ?? DEFAULTS.host,
      port: opts.port,
      dataDir: resolve(opts.dataDir ?? join(f.dir, 'data')),
    };
    if (await redisAnswers(rec.host, rec.port)) throw new Error(`redis ${opts.name}: ${rec.host}:${rec.port} is already in use by another server`);
    mkdirSync(rec.dataDir, { recursive: true });
    writeFileSync(f.record, JSON.stringify(rec, null, 2));
    const args = [
      '--port', String(rec.port),
      '--bind', rec.host,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--protected-mode', 'no',
      '--dir', rec.dataDir,
      '--pidfile', f.pid,
    ];
    // Redis writes the pidfile itself a moment later; ours is there at once for stop and status.
    const childPid = await spawnDaemon({
      command: binary,
      args,
      logFile: f.log,
      pidFile: f.pid,
      banner: `starting redis ${opts.name} on ${rec.host}:${rec.port}`,
    });
    log(`started redis ${opts.name} pid ${childPid} on ${rec.host}:${rec.port}, log ${f.log}`);
    try {
      await waitForPing(rec, childPid, timeoutMs, f.log);
    } catch (err) {
      await stopRedis(opts.name);
      throw err;
    }
    return { name: opts.name, address: `${rec.host}:${rec.port}`, pid: childPid, reused: false };
  });
}

function waitForPing(rec: InstanceRecord, pid: number, timeoutMs: number, logFile: string): Promise<void> {
  return waitUntilAnswering({
    what: `redis ${rec.name}`,
    pid,
    logFile,
    timeoutMs,
    intervalMs: 50,
    answers: () => redisAnswers(rec.host, rec.port),
  });
}

/** SIGTERM, SIGKILL after the grace period; resolves once the process is gone. False if it was not running. */
export function stopRedis(name: string, graceMs = DEFAULTS.stopGraceMs): Promise<boolean> {
  return stopIfRunning(livePid(name), files(name).pid, graceMs);
}

export async function redisStatus(name: string): Promise<RedisStatus> {
  const rec = readRecord(name);
  const pid = livePid(name);
  return {
    name,
    running: pid !== null,
    answering: pid !== null && rec !== null && (await redisAnswers(rec.host, rec.port)),
    pid,
    address: rec ? `${rec.host}:${rec.port}` : null,
    logFile: files(name).log,
  };
}
