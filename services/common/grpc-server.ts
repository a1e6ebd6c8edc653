// Binding and draining a grpc-js server, the same for the public frontend and the internal servers.
import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { HealthState } from './health.js';

/** Binds host:port (port 0 picks one) with these credentials and resolves with the port bound. */
export function bindServer(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
}

/** bindServer in plaintext: the servers internal to a region. */
export function bindInsecure(server: grpc.Server, host: string, port: number): Promise<number> {
  return bindServer(server, host, port, grpc.ServerCredentials.createInsecure());
}

/** Lets calls in flight finish for up to graceMs, then cuts them off. Resolves true if they drained. */
async function drain(server: grpc.Server, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true))),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!drained) server.forceShutdown();
  return drained;
}

/**
 * The graceful stop of a server: health NOT_SERVING (and watchers told), long polls released
 * through `stopping`, then the calls in flight drained for up to graceMs. True if they drained.
 */
export function stopGracefully(server: grpc.Server, health: HealthState, stopping: AbortController, graceMs: number): Promise<boolean> {
  health.setServing(false);
  health.endWatches();
  stopping.abort();
  return drain(server, graceMs);
}

/** The controller a server aborts on stop; every long poll listens on it, so it has no listener cap. */
export function newStopController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
