// The frontend process: Temporal's WorkflowService and OperatorService over gRPC, plus health and reflection.
// Every call goes through one wrapper: decode check, generic payload/duration checks, the handler,
// error mapping, metrics. No request can throw past it.
import * as grpc from '@grpc/grpc-js';
import { bindServer, newStopController, stopGracefully } from '../common/grpc-server.js';
import { peersOnly, serverCredentials, type TlsFiles } from '../common/tls.js';
import { ENDED, type Service } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { apiError } from '../common/errors.js';
import { counter, histogram, type Registry } from '../common/metrics.js';
import { MalformedRequest, reflectionRoot, requestType, responseType, serviceDefinition, toMessage, type PbMethod } from '../common/grpc-codec.js';
import { frontendConfig, type FrontendConfig, type FrontendConfigInput } from './config.js';
import { CallGate, type Admission } from '../auth/gate.js';
import { IdentityDirectory } from '../auth/directory.js';
import { regionTag } from '../auth/versions.js';
import { FrontendContext, type CallContext, type FrontendDeps, type Handler } from './context.js';
import { toServiceError } from './errors.js';
import { HealthState, healthDefinition } from '../common/health.js';
import { OPERATOR_SERVICE, servedHandlers, WORKFLOW_SERVICE } from './handlers.js';
import { NamespaceFailoverCoordinator, type FailoverCoordinator } from '../namespaces/failover-coordinator.js';
import { addReflection } from '../common/grpc-reflection.js';
import { checkPayloadsAndDurations } from './validation.js';

export { WORKFLOW_SERVICE };
const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** A gRPC service of another layer served on the frontend's port (one address per region). */
export interface ExtraService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
  /** For other regions only (replication): with TLS, served only to callers with a client certificate the region's CA signed. */
  peersOnly?: boolean;
}

export interface FrontendServiceDeps extends FrontendDeps {
  registry: Registry;
  /** E.g. the inter-region replication endpoint, added by the process main. */
  extraServices?: ExtraService[];
  /** The port's TLS; plaintext when absent. */
  tls?: TlsFiles;
  /**
   * Where UpdateNamespace's change of active cluster goes. Default: a coordinator on this region's
   * store that does not wait for replication (one region, tests); process mains pass theirs.
   */
  failover?: FailoverCoordinator;
  /** Users and API keys the auth checks read. Default: a directory on this region's store. */
  identity?: IdentityDirectory;
}

export class FrontendService implements Service {
  readonly config: FrontendConfig;
  private readonly log: Logger;
  private readonly ctx: FrontendContext;
  private readonly health = new HealthState(['', WORKFLOW_SERVICE]);
  private readonly requests: ReturnType<typeof counter>;
  private readonly durations: ReturnType<typeof histogram>;
  /** Aborted by stop() so long polls return at once and the grace period is not spent waiting on them. */
  private stopping = newStopController();
  private server?: grpc.Server;
  private boundPort?: number;
  private readonly extraServices: ExtraService[];
  private readonly failover: FailoverCoordinator;
  private readonly gate: CallGate;
  private readonly tls?: TlsFiles;

  constructor(config: FrontendConfigInput, deps: FrontendServiceDeps) {
    this.config = frontendConfig(config);
    if (deps.namespaces.localRegion !== this.config.region) {
      throw new Error(`frontend region ${this.config.region} differs from the namespace registry's ${deps.namespaces.localRegion}`);
    }
    this.log = deps.logger.child({ service: 'frontend' });
    this.extraServices = deps.extraServices ?? [];
    this.tls = deps.tls;
    this.failover =
      deps.failover ?? new NamespaceFailoverCoordinator({ registry: deps.namespaces, audit: deps.persistence.clusterMetadata, log: this.log.child({ component: 'failover' }) });
    this.ctx = new FrontendContext(this.config, { ...deps, logger: this.log });
    const identity = deps.identity ?? new IdentityDirectory(deps.persistence.identity, regionTag(deps.namespaces.config.region.initialFailoverVersion));
    this.gate = new CallGate(this.config.auth, identity, this.log.child({ component: 'auth' }), deps.registry);
    this.requests = counter(deps.registry, 'tandem_frontend_requests_total', 'Frontend gRPC requests by method and status code', ['method', 'code']);
    this.durations = histogram(deps.registry, 'tandem_frontend_request_duration_seconds', 'Frontend gRPC request latency', ['method']);
  }

  /** host:port actually bound (port 0 picks one). */
  get address(): string {
    return `${this.config.host}:${this.boundPort ?? this.config.port}`;
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error('frontend is not started');
    return this.boundPort;
  }

  async start(): Promise<void> {
    this.stopping = newStopController();
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.config.maxReceiveMessageBytes,
      'grpc.max_send_message_length': -1,
    });
    for (const [name, served] of Object.entries(servedHandlers(this.ctx, this.failover))) {
      const service = reflectionRoot.lookupService(name);
      const impl: grpc.UntypedServiceImplementation = {};
      for (const method of service.methodsArray) impl[method.name] = this.unary(method, served[method.name]);
      server.addService(serviceDefinition(service), impl);
    }
    server.addService(healthDefinition, this.health.implementation());
    for (const extra of this.extraServices) {
      const impl = this.gated(extra);
      server.addService(extra.definition, extra.peersOnly && this.tls ? peersOnly(impl) : impl);
    }
    addReflection(server, [WORKFLOW_SERVICE, OPERATOR_SERVICE, HEALTH_SERVICE]);

    this.boundPort = await bindServer(server, this.config.host, this.config.port, serverCredentials(this.tls, this.log.child({ component: 'tls' })));
    this.server = server;
    this.health.setServing(true);
    this.log.info({ address: this.address, tls: this.tls !== undefined }, 'frontend listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (!(await stopGracefully(server, this.health, this.stopping, this.config.shutdownGraceMs))) {
      this.log.warn({ graceMs: this.config.shutdownGraceMs }, 'frontend calls were still running at the end of the grace period; cut off');
    }
    this.ctx.close();
    this.log.info('frontend stopped');
  }

  private unary(method: PbMethod, handler: Handler | undefined): grpc.handleUnaryCall<unknown, unknown> {
    const name = method.name;
    const reqType = requestType(method);
    const resType = responseType(method);
    const run = handler ?? (async () => Promise.reject(apiError('UNIMPLEMENTED', `${method.parent?.fullName.slice(1) ?? WORKFLOW_SERVICE}/${name}`)));

    return (call, callback) => {
      const endTimer = this.durations.startTimer({ method: name });
      const cleanups: (() => void)[] = [];
      const ctx: CallContext = { method: name, incoming: call, longPoll: (capMs) => this.longPollSignal(call, capMs, cleanups) };
      let admission: Admission | undefined;
      const finish = (err: unknown, response?: object) => {
        for (const c of cleanups) c();
        endTimer();
        if (admission) this.gate.settle(admission, err);
        if (err === null) {
          this.requests.inc({ method: name, code: 'OK' });
          callback(null, response);
          return;
        }
        const status = toServiceError(err, name, this.log);
        this.requests.inc({ method: name, code: grpc.status[status.code ?? grpc.status.UNKNOWN] ?? String(status.code) });
        callback(status, null);
      };
      (async () => {
        const req = call.request;
        if (req instanceof MalformedRequest) throw apiError('INVALID_ARGUMENT', `Malformed ${reqType.name}: ${req.reason}.`);
        admission = await this.gate.admit(call.getPath(), call.metadata, req as object);
        checkPayloadsAndDurations(reqType, req as object, this.config);
        // fromObject here, not in the serializer, so a bad response is logged as INTERNAL with its method.
        return toMessage(resType, await run(req, ctx));
      })().then(
        (response) => finish(null, response),
        (err: unknown) => finish(err),
      );
    };
  }

  /**
   * An extra service with the same checks as Temporal's (auth, rate limits, audit) on its unary
   * methods. Its streams are region to region (replication) and carry no key.
   */
  private gated(extra: ExtraService): grpc.UntypedServiceImplementation {
    const impl: grpc.UntypedServiceImplementation = { ...extra.implementation };
    for (const [key, def] of Object.entries(extra.definition)) {
      const inner = extra.implementation[key];
      if (def.requestStream || def.responseStream || !inner) continue;
      const served = inner as grpc.handleUnaryCall<object, unknown>;
      const handler: grpc.handleUnaryCall<object, unknown> = (call, callback) => {
        this.gate.admit(def.path, call.metadata, call.request).then(
          (admission) =>
            served(call, (err, res) => {
              this.gate.settle(admission, err ?? null);
              callback(err, res);
            }),
          (err: unknown) => callback(toServiceError(err, key, this.log), null),
        );
      };
      impl[key] = handler as grpc.UntypedHandleCall;
    }
    return impl;
  }

  /** Fires a margin before the deadline, after capMs, when the client goes away, or on stop(). */
  private longPollSignal(call: grpc.ServerUnaryCall<unknown, unknown>, capMs: number, cleanups: (() => void)[]): AbortSignal {
    const controller = new AbortController();
    const abort = () => controller.abort(ENDED);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const budget = Math.min(capMs, deadlineMs - Date.now() - this.config.longPollMarginMs);
    const timer = setTimeout(abort, Math.max(0, budget));
    call.once('cancelled', abort);
    this.stopping.signal.addEventListener('abort', abort, { once: true });
    cleanups.push(() => {
      clearTimeout(timer);
      call.off('cancelled', abort);
      this.stopping.signal.removeEventListener('abort', abort);
    });
    return controller.signal;
  }
}
