// A history node of a region of separate processes serves the replication stream's sender side and
// the admin verbs (DLQ, lag) of its shards on its own internal port; the region's frontend pipes
// other regions' streams there (stream-proxy.ts) and fans the admin verbs out (admin-fanout.ts).
import type { Definition } from '../services/rpc/definition.js';
import type { InternalGrpcServer } from '../services/rpc/server.js';
import { ReplicationAdminServiceService, ReplicationServiceService } from '../proto/gen/tandem/replication/v1/replication.js';
import { adminHandlers } from './grpc-services.js';
import { OwnedShardsDlqAdmin } from './owned-dlq-admin.js';
import type { Replication } from './replication.js';

export function serveReplicationOnNode<S extends Definition>(server: InternalGrpcServer<S>, replication: Replication, ownedShardIds: () => number[]): void {
  server
    .addService('tandem.replication.v1.ReplicationService', ReplicationServiceService, { streamShard: (call) => replication.serve(call) })
    .addService('tandem.replication.v1.ReplicationAdminService', ReplicationAdminServiceService, adminHandlers(new OwnedShardsDlqAdmin(replication, ownedShardIds), replication));
}
