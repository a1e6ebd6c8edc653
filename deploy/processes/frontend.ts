// The frontend of a region: Temporal's WorkflowService for SDK clients and workers, with history
// and matching reached over internal gRPC. Registers the default namespace when it is missing.
// With other regions in the topology it is also the region's replication endpoint: their
// receivers' streams are piped to the history node owning the shard, and the admin verbs (DLQ,
// lag) fan out; a forced failover measures its loss window through that fan-out.
import { RemoteHistory } from '../../services/history/grpc-client.js';
import { RemoteMatching } from '../../services/matching/grpc-client.js';
import { FrontendService } from '../../services/frontend/server.js';
import { isTandemError } from '../../services/common/errors.js';
import { replicationWaiter } from '../../services/history/replication-progress.js';
import { globalNamespaceServices } from '../../services/namespaces/region-services.js';
import { directoryDefaults } from '../../services/auth/directory.js';
import { identityServices, importAdminKey } from '../../services/auth/region-services.js';
import { AdminFanout } from '../../replication/admin-fanout.js';
import { replicationAdminService } from '../../replication/grpc-services.js';
import { failoverLagOf } from '../../replication/receiver-lag.js';
import { StreamShardProxy } from '../../replication/stream-proxy.js';
import { channelCredentials } from '../../services/common/tls.js';
import { frontendTls, linkTls, topologyAdminKey } from '../topology.js';
import { runProcess } from './region-config.js';

const DEFAULT_NAMESPACE = 'default';

await runProcess('frontend', async (ctx) => {
  const { node, bindHost, region, topology } = ctx.config;
  const store = await ctx.openStore();
  const namespaces = ctx.namespaces(store);
  const membership = ctx.membership('frontend');
  const history = new RemoteHistory({ membership, numShards: ctx.numShards, logger: ctx.log });
  const matching = new RemoteMatching({ membership, logger: ctx.log });
  const links = channelCredentials(linkTls(region.tls), ctx.log.child({ component: 'tls' }));
  const replicated = topology.regions.length > 1;
  const streams = replicated ? new StreamShardProxy({ membership, numShards: ctx.numShards, logger: ctx.log }) : undefined;
  const admin = replicated ? new AdminFanout(membership, ctx.numShards, ctx.log) : undefined;
  const replicationServices = streams && admin ? [streams.extraService, replicationAdminService(admin, admin, ctx.log)] : [];
  const global = globalNamespaceServices({
    registry: namespaces,
    store,
    log: ctx.log,
    metrics: ctx.registry,
    waitForReplication: replicationWaiter(store, ctx.numShards, namespaces),
    publish: (namespaceId) => history.refreshNamespace(namespaceId),
    measureLag: admin && failoverLagOf((ns, source) => admin.measureLag(ns, source)),
    links,
  });
  // Users and keys replicate between regions whether or not this topology requires keys.
  const identity = identityServices({ store, clusters: namespaces.clusters, log: ctx.log, links });
  const adminKey = topologyAdminKey(topology);
  if (adminKey !== undefined && (await importAdminKey(identity.directory, adminKey, directoryDefaults.maxKeyTtlMs))) {
    ctx.log.info('stored the topology admin key');
  }
  const frontend = new FrontendService(
    { host: bindHost, port: node.port, region: region.name, historyShardCount: ctx.numShards, auth: { authEnabled: adminKey !== undefined } },
    {
      persistence: store,
      namespaces,
      history,
      matching,
      logger: ctx.log,
      registry: ctx.registry,
      failover: global.coordinator,
      extraServices: [...global.adminServices, ...identity.adminServices, ...replicationServices],
      identity: identity.directory,
      tls: frontendTls(region.tls),
      links,
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
  // The proxied streams end first: the frontend's drain would otherwise wait for them.
  const services = [namespaces, membership, history, matching, ...(admin ? [admin] : []), frontend, global.replicator, identity.replicator, ...(streams ? [streams] : [])];
  return { services, afterStart };
});
