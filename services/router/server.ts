// The global endpoint (DESIGN "Failure domains"): a stateless gRPC proxy for Temporal's
// WorkflowService and OperatorService, plus health and reflection, in front of every region's
// frontend. Each call goes where its namespace's route points (proxy.ts); several routers run side
// by side on one route registry.
import * as grpc from '@grpc/grpc-js';
import { addReflection } from '../common/grpc-reflection.js';
import { bindServer, newStopController, stopGracefully } from '../common/grpc-server.js';
import { serverCredentials, type TlsFiles } from '../common/tls.js';
import { HealthState, healthDefinition } from '../common/health.js';
import type { Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { counter, histogram, type Registry } from '../common/metrics.js';
import type { RouteRegistry } from '../routes/route.js';
import { routerConfig, type RouterConfig } from './config.js';
import { OPERATOR_SERVICE, WORKFLOW_SERVICE, proxiedMethods, rawDefinition, type ProxiedMethod } from './proxied-methods.js';
import { RoutingProxy, type Outcome } from './proxy.js';
import { RouteCache } from './route-cache.js';
import { Upstreams } from './upstreams.js';

const HEALTH_SERVICE = 'grpc.health.v1.Health';
const PROXIED_SERVICES = [WORKFLOW_SERVICE, OPERATOR_SERVICE];

/** Headers and trailers grpc-js writes itself on the way out; everything else a region sent is relayed. */
const TRANSPORT_KEYS = ['content-type', 'date', 'grpc-status', 'grpc-message', 'grpc-encoding', 'grpc-accept-encoding'];

function relayable(m: grpc.Metadata | undefined): grpc.Metadata {
  const out = m?.clone() ?? new grpc.Metadata();
  for (const k of TRANSPORT_KEYS) out.remove(k);
  return out;
}

export interface RouterDeps {
  /** Started and stopped by the process main, like every shared dependency. */
  routes: RouteRegistry;
  registry: Registry;
  logger: Logger;
  /** The endpoint's TLS; plaintext when absent. */
  tls?: TlsFiles;
  /** How the regions' frontends are reached; default plaintext. */
  regionCredentials?: grpc.ChannelCredentials;
}

export class RouterService implements Service {
  readonly config: RouterConfig;
  private readonly log: Logger;
  private readonly health = new HealthState(['', ...PROXIED_SERVICES]);
  private readonly cache: RouteCache;
  private readonly upstreams: Upstreams;
  private readonly tls?: TlsFiles;
  private readonly requests: ReturnType<typeof counter>;
  private readonly reroutes: ReturnType<typeof counter>;
  private readonly durations: ReturnType<typeof histogram>;
  private stopping = newStopController();
  private server?: grpc.Server;
  private boundPort?: number;

  constructor(config: Partial<RouterConfig>, deps: RouterDeps) {
    this.config = routerConfig(config);
    this.log = deps.logger.child({ service: 'router' });
    this.cache = new RouteCache(deps.routes, this.config.missTtlMs, this.log);
    this.upstreams = new Upstreams(deps.regionCredentials);
    this.tls = deps.tls;
    this.requests = counter(deps.registry, 'tandem_router_requests_total', 'Calls proxied by the global endpoint, by method, answering region and gRPC code', ['method', 'region', 'code']);
    this.reroutes = counter(deps.registry, 'tandem_router_reroutes_total', 'Tries sent again after UNAVAILABLE, NamespaceNotActive or a route change under a long poll', ['reason']);
    this.durations = histogram(deps.registry, 'tandem_router_request_duration_seconds', 'Latency of proxied calls, holds and retries included', ['method']);
  }

  /** host:port actually bound (port 0 picks one). */
  get address(): string {
    return `${this.config.host}:${this.boundPort ?? this.config.port}`;
  }

  async start(): Promise<void> {
    this.stopping = newStopController();
    this.cache.start();
    const proxy = new RoutingProxy({ config: this.config, cache: this.cache, upstreams: this.upstreams, reroutes: this.reroutes, stopping: this.stopping.signal, log: this.log });
    const server = new grpc.Server({ 'grpc.max_receive_message_length': this.config.maxReceiveMessageBytes, 'grpc.max_send_message_length': -1 });
    for (const service of PROXIED_SERVICES) {
      const methods = proxiedMethods(service);
      const impl: grpc.UntypedServiceImplementation = {};
      for (const m of methods) impl[m.name] = this.unary(proxy, m);
      server.addService(rawDefinition(methods), impl);
    }
    server.addService(healthDefinition, this.health.implementation());
    addReflection(server, [...PROXIED_SERVICES, HEALTH_SERVICE]);
    this.boundPort = await bindServer(server, this.config.host, this.config.port, serverCredentials(this.tls, this.log.child({ component: 'tls' })));
    this.server = server;
    this.health.setServing(true);
    this.log.info({ address: this.address }, 'router listening');
  }

  /** Health NOT_SERVING, long polls answered empty, other calls drained for shutdownGraceMs, then closed. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (!(await stopGracefully(server, this.health, this.stopping, this.config.shutdownGraceMs))) {
      this.log.warn({ graceMs: this.config.shutdownGraceMs }, 'router calls were still running at the end of the grace period; cut off');
    }
    this.upstreams.close();
    this.cache.stop();
    this.log.info('router stopped');
  }

  private unary(proxy: RoutingProxy, method: ProxiedMethod): grpc.handleUnaryCall<Buffer, Buffer> {
    return (call, callback) => {
      const endTimer = this.durations.startTimer({ method: method.name });
      const answer = (outcome: Outcome) => {
        endTimer();
        const { status } = outcome;
        this.requests.inc({ method: method.name, region: outcome.region, code: grpc.status[status.code] ?? String(status.code) });
        if (outcome.headers) call.sendMetadata(relayable(outcome.headers));
        if (status.code === grpc.status.OK) callback(null, outcome.response ?? Buffer.alloc(0), relayable(status.metadata));
        else callback({ code: status.code, details: status.details, metadata: relayable(status.metadata) });
      };
      proxy.run(method, call).then(answer, (err: unknown) => {
        this.log.error({ err, method: method.name }, 'router bug: a proxied call threw');
        answer({ region: 'none', status: { code: grpc.status.INTERNAL, details: `router: ${(err as Error).message}`, metadata: new grpc.Metadata() } });
      });
    };
  }
}
