// What a region's frontend process adds for users and API keys, built in one place so every
// process main wires it the same way: the directory (the frontend's auth checks read it), the
// identity services on the frontend's port, and the replicator that reads the other regions'.
import type * as grpc from '@grpc/grpc-js';
import { isTandemError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ClusterMetadata } from '../namespaces/cluster-metadata.js';
import type { Persistence } from '../persistence/store.js';
import { IdentityDirectory } from './directory.js';
import type { AdminService } from '../namespaces/admin-service.js';
import { identityReplicationService, identityService } from './identity-service.js';
import type { Role } from './model.js';
import { IdentityReplicator, identityReplicationDefaults, type IdentityReplicationConfig } from './replicator.js';
import { regionTag } from './versions.js';

export function identityServices(deps: {
  store: Persistence;
  clusters: ClusterMetadata;
  log: Logger;
  replication?: IdentityReplicationConfig;
  /** How this region reaches other regions' frontends; default plaintext. */
  links?: grpc.ChannelCredentials;
}) {
  const { store, clusters, log } = deps;
  const directory = new IdentityDirectory(store.identity, regionTag(clusters.local.initialFailoverVersion));
  const replicator = new IdentityReplicator(
    { store: store.identity, clusters, log: log.child({ component: 'identity-replication' }), links: deps.links },
    deps.replication ?? identityReplicationDefaults,
  );
  const adminServices: AdminService[] = [identityService(directory, clusters.local.name, log), identityReplicationService(directory, log)];
  return { directory, replicator, adminServices };
}

/**
 * A new key for `name`, creating the user with `role` when it does not exist yet (a dev cluster's
 * bootstrap admin, its failover controller): the token is returned once and never stored.
 */
export async function bootstrapKey(directory: IdentityDirectory, name: string, role: Role, serviceAccount: boolean, description: string): Promise<string> {
  if (!(await directory.getUser(name))) await directory.createUser(name, role, {}, serviceAccount);
  return (await directory.createApiKey(name, description, 0)).token;
}

/**
 * A topology's admin key (deploy/topology.ts AuthSpec) in this region: the account admin `admin`
 * created when missing, and the key stored unless a record of it exists. Every frontend of every
 * region runs it at start; the races between them end in the same user and key.
 */
export async function importAdminKey(directory: IdentityDirectory, token: string, ttlMs: number): Promise<boolean> {
  await directory.createUser('admin', 'admin', {}, false).catch((err: unknown) => {
    if (!isTandemError(err, 'ALREADY_EXISTS')) throw err;
  });
  return directory.importApiKey('admin', token, "the topology's admin key (global.auth.adminKeyFile)", ttlMs);
}
