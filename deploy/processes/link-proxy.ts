// One direction of the link between two regions (topology `global.links[]`): a TCP proxy the
// `from` region's processes reach the `to` region's frontend through, with its control surface
// (deploy/chaos/link-control.ts) for `tandem chaos partition|heal`.
//   node --import tsx deploy/processes/link-proxy.ts --topology FILE --node link-b-a
import type { Service } from '../../services/common/lifecycle.js';
import { LinkControlServer } from '../chaos/link-control.js';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import { findRegion, TopologyError } from '../topology.js';
import { runGlobalProcess } from './global-process.js';

await runGlobalProcess('link', async (ctx) => {
  const link = ctx.topology.global.links.find((l) => l.id === ctx.id);
  if (!link) throw new TopologyError(`no link ${ctx.id} in ${ctx.topologyFile} (links: ${ctx.topology.global.links.map((l) => l.id).join(', ') || 'none'})`);
  const to = findRegion(ctx.topology, link.to).frontend;
  const proxy = new TcpProxy({ host: link.host, port: link.port }, { host: to.host === '0.0.0.0' ? '127.0.0.1' : to.host, port: to.port });
  const proxyService: Service = { start: () => proxy.heal(), stop: () => proxy.cut() };
  ctx.log.info({ listen: proxy.address, target: `${to.host}:${to.port}` }, 'link proxy');
  // The control server also answers /healthz and /metrics: started last, it says the link is ready.
  return { services: [proxyService, new LinkControlServer(link, proxy, ctx.registry, ctx.log)] };
});
