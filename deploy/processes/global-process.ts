// What the process mains outside the regions share (the global-endpoint router, the links between
// regions): `--topology FILE --node ID [--log-level info]`, a logger and a metrics registry
// labelled with the id, and region-config's run loop.
import { parseArgs } from 'node:util';
import { createLogger, type Logger } from '../../services/common/logger.js';
import { createRegistry, MetricsServer, type Registry } from '../../services/common/metrics.js';
import type { Service } from '../../services/common/lifecycle.js';
import { loadTopology, TopologyError, type Topology } from '../topology.js';
import { runLoop } from './region-config.js';

export interface GlobalProcessContext {
  topologyFile: string;
  topology: Topology;
  /** `global-router`, `link-a-b`. */
  id: string;
  log: Logger;
  registry: Registry;
}

function globalContext(kind: string, argv: string[]): GlobalProcessContext {
  const { values } = parseArgs({ args: argv, options: { topology: { type: 'string' }, node: { type: 'string' }, 'log-level': { type: 'string' } } });
  const usage = `usage: ${kind}.ts --topology FILE --node ID [--log-level info]`;
  if (!values.topology) throw new TopologyError(`--topology is required\n${usage}`);
  if (!values.node) throw new TopologyError(`--node is required\n${usage}`);
  const id = values.node;
  return {
    topologyFile: values.topology,
    topology: loadTopology(values.topology),
    id,
    log: createLogger({ level: values['log-level'] ?? process.env.TANDEM_LOG_LEVEL ?? 'info' }).child({ service: kind, region: 'global', node: id }),
    registry: createRegistry({ region: 'global', service: kind, node: id }),
  };
}

/**
 * Runs one global process: `build` returns its services and where its /metrics and /healthz go
 * (served last, so /healthz answering means the process is ready). A bad command line exits 2.
 */
export async function runGlobalProcess(
  kind: string,
  build: (ctx: GlobalProcessContext) => Promise<{ services: Service[]; metrics?: { host: string; port: number } }>,
): Promise<void> {
  let ctx: GlobalProcessContext;
  try {
    ctx = globalContext(kind, process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  await runLoop(
    ctx.log,
    async () => {
      const built = await build(ctx);
      const metrics = built.metrics ? [new MetricsServer(ctx.registry, built.metrics.host, built.metrics.port, ctx.log.child({ component: 'metrics' }))] : [];
      return { services: [...built.services, ...metrics] };
    },
    async () => {},
    { node: ctx.id, topology: ctx.topologyFile },
  );
}
