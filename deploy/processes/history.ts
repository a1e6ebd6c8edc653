// A history node of a region: the shards membership gives it (ShardOwnership acquires them
// through the range_id bump), served to the frontend and matching over internal gRPC.
import { HistoryService } from '../../services/history/history-service.js';
import { HistoryGrpcServer } from '../../services/history/grpc-server.js';
import { ShardOwnership } from '../../services/history/shard-ownership.js';
import { RemoteMatching } from '../../services/matching/grpc-client.js';
import { runProcess } from './region-config.js';

await runProcess('history', async (ctx) => {
  const { node, instanceId, bindHost } = ctx.config;
  const store = await ctx.openStore();
  const namespaces = ctx.namespaces(store);
  const history = new HistoryService({ numShards: ctx.numShards, hostId: instanceId }, store, namespaces, ctx.log, ctx.registry, 'none');
  const membership = ctx.membership('history');
  const matching = new RemoteMatching({ membership, logger: ctx.log });
  history.engine.setMatching(matching);
  const grpc = new HistoryGrpcServer({ host: bindHost, port: node.port }, history.engine, ctx.log, ctx.registry);
  const ownership = new ShardOwnership({ membership, controller: history.controller, numShards: ctx.numShards, logger: ctx.log });
  // Serving before joining: a member is called as soon as the others see it. Stopped in
  // reverse: shards are given up and the node leaves before its server closes.
  return { services: [namespaces, history, grpc, matching, membership, ownership] };
});
