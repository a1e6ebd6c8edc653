// A matching node of a region: task queues (sync match and persisted backlog), with history
// reached over internal gRPC to record tasks as started.
import { RemoteHistory } from '../../services/history/grpc-client.js';
import { MatchingEngine } from '../../services/matching/engine.js';
import { MatchingGrpcServer } from '../../services/matching/grpc-server.js';
import { routingSource } from '../../services/namespaces/worker-deployments.js';
import { runProcess } from './region-config.js';

await runProcess('matching', async (ctx) => {
  const { node, bindHost } = ctx.config;
  const store = await ctx.openStore();
  const membership = ctx.membership('matching');
  const history = new RemoteHistory({ membership, numShards: ctx.numShards, logger: ctx.log });
  // Worker Versioning routes tasks by the deployments in the namespace records.
  const namespaces = ctx.namespaces(store);
  const engine = new MatchingEngine({ store: store.taskQueues, starter: history, logger: ctx.log, registry: ctx.registry, routing: routingSource(namespaces) });
  const grpc = new MatchingGrpcServer({ host: bindHost, port: node.port }, engine, ctx.log, ctx.registry);
  return { services: [namespaces, history, engine, grpc, membership] };
});
