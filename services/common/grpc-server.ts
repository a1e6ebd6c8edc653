// Binding and draining a grpc-js server, the same for the public frontend and the internal servers.
import * as grpc from '@grpc/grpc-js';

/** Binds host:port (port 0 picks one) and resolves with the port bound. */
export function bindInsecure(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
}

/** Lets calls in flight finish for up to graceMs, then cuts them off. Resolves true if they drained. */
export async function drain(server: grpc.Server, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true))),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!drained) server.forceShutdown();
  return drained;
}
