// The frontend of a region: Temporal's WorkflowService for SDK clients and workers, with history
// and matching reached over internal gRPC. Registers the default namespace when it is missing.
import { RemoteHistory } from '../../services/history/grpc-client.js';
import { RemoteMatching } from '../../services/matching/grpc-client.js';
import { FrontendService } from '../../services/frontend/server.js';
import { isTandemError } from '../../services/common/errors.js';
import { replicationWaiter } from '../../services/history/replication-progress.js';
import { globalNamespaceServices } from '../../services/namespaces/region-services.js';
import { runProcess } from './region-config.js';

const DEFAULT_NAMESPACE = 'default';

await runProcess('frontend', async (ctx) => {
  const { node, bindHost, region } = ctx.config;
  const store = await ctx.openStore();
  const namespaces = ctx.namespaces(store);
  const membership = ctx.membership('frontend');
  const history = new RemoteHistory({ membership, numShards: ctx.numShards, logger: ctx.log });
  const matching = new RemoteMatching({ membership, logger: ctx.log });
  const global = globalNamespaceServices({
    registry: namespaces,
    store,
    log: ctx.log,
    waitForReplication: replicationWaiter(store, ctx.numShards, namespaces),
    publish: (namespaceId) => history.refreshNamespace(namespaceId),
  });
  const frontend = new FrontendService(
    { host: bindHost, port: node.port, region: region.name, historyShardCount: ctx.numShards },
    {
      persistence: store,
      namespaces,
      history,
      matching,
      logger: ctx.log,
      registry: ctx.registry,
      failover: global.coordinator,
      extraServices: global.adminServices,
    },
  );
  const afterStart = async () => {
    if (await namespaces.getByName(DEFAULT_NAMESPACE)) return;
    // A restarted frontend, or a second one of the region, may race it: the loser finds it taken.
    await namespaces.register({ name: DEFAULT_NAMESPACE, description: 'default namespace' }).catch((err: unknown) => {
      if (!isTandemError(err, 'NAMESPACE_ALREADY_EXISTS')) throw err;
    });
    ctx.log.info({ namespace: DEFAULT_NAMESPACE }, 'registered the default namespace');
  };
  return { services: [namespaces, membership, history, matching, frontend, global.replicator], afterStart };
});
