// A history node of a region: the shards membership gives it (ShardOwnership acquires them
// through the range_id bump), served to the frontend and matching over internal gRPC. With other
// regions in the topology it replicates its shards too: receivers stream the other regions' tasks
// in through their frontends, and the sender side serves its own shards' streams, which the
// region's frontend pipes here.
import { HistoryService } from '../../services/history/history-service.js';
import { HistoryGrpcServer } from '../../services/history/grpc-server.js';
import { ShardOwnership } from '../../services/history/shard-ownership.js';
import { RemoteMatching } from '../../services/matching/grpc-client.js';
import { Replication } from '../../replication/replication.js';
import { serveReplicationOnNode } from '../../replication/node-rpc.js';
import { channelCredentials } from '../../services/common/tls.js';
import { linkTls } from '../topology.js';
import { runProcess } from './region-config.js';

await runProcess('history', async (ctx) => {
  const { node, instanceId, bindHost, topology, region } = ctx.config;
  const store = await ctx.openStore();
  const namespaces = ctx.namespaces(store);
  const replication =
    topology.regions.length > 1 ? new Replication({}, { store, namespaces, numShards: ctx.numShards, logger: ctx.log, registry: ctx.registry, links: channelCredentials(linkTls(region.tls), ctx.log.child({ component: 'tls' })) }) : undefined;
  const history = new HistoryService({ numShards: ctx.numShards, hostId: instanceId }, store, namespaces, ctx.log, ctx.registry, 'none', {
    shardListeners: replication ? [replication] : [],
  });
  replication?.attach(history.engine);
  const membership = ctx.membership('history');
  const matching = new RemoteMatching({ membership, logger: ctx.log });
  history.engine.setMatching(matching);
  const grpc = new HistoryGrpcServer({ host: bindHost, port: node.port }, history.engine, ctx.log, ctx.registry);
  if (replication) serveReplicationOnNode(grpc, replication, () => history.controller.ownedShardIds);
  const ownership = new ShardOwnership({ membership, controller: history.controller, numShards: ctx.numShards, logger: ctx.log });
  // Serving before joining: a member is called as soon as the others see it. Stopped in
  // reverse: shards are given up (their streams end) and the node leaves before its server closes.
  return { services: [namespaces, history, ...(replication ? [replication] : []), grpc, matching, membership, ownership] };
});
