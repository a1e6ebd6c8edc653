// The global endpoint (DESIGN "Failure domains"): the router on `global.endpoint`, reading routes
// from the global control plane's Redis (`global.redis`), and the routes' DNS face when the
// topology has `global.dns`. Stateless: several can run side by side on one registry.
//   node --import tsx deploy/processes/router.ts --topology FILE --node global-router
import { RouteDnsServer } from '../../services/routes/dns-server.js';
import { RedisRouteRegistry } from '../../services/routes/redis.js';
import { RouterService } from '../../services/router/server.js';
import { channelCredentials } from '../../services/common/tls.js';
import { redisUrl, regionClientTls } from '../topology.js';
import { runGlobalProcess } from './global-process.js';

await runGlobalProcess('router', async (ctx) => {
  const { endpoint, dns, redis, keyPrefix } = ctx.topology.global;
  const routes = new RedisRouteRegistry({ redisUrl: redisUrl(redis), keyPrefix }, ctx.log);
  const router = new RouterService(
    { host: endpoint.host, port: endpoint.port },
    { routes, registry: ctx.registry, logger: ctx.log, tls: endpoint.tls, regionCredentials: channelCredentials(regionClientTls(endpoint.tls)) },
  );
  const dnsServer = dns ? [new RouteDnsServer({ host: dns.host, port: dns.port, domain: dns.domain }, { routes, logger: ctx.log })] : [];
  return { services: [routes, router, ...dnsServer], metrics: { host: endpoint.host, port: endpoint.metricsPort } };
});
