// One region's frontend as the controller, its observers and the drill call it: Temporal's
// WorkflowService and health, tandem.admin.v1 FailoverService and FailoverAuditService. No
// retries (a probe must see a failure as it is) and a deadline on every call.
import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { toNumber } from '../common/proto-time.js';
import { channelCredentials, type ClientTlsFiles } from '../common/tls.js';
import { fromDescribeNamespaceResponse } from '../namespaces/convert.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { FailoverServiceClient, type FailoverNamespaceRequest, type FailoverNamespaceResponse } from '../../proto/gen/tandem/admin/v1/failover.js';
import { FailoverAuditServiceClient, type FailoverAuditEntry } from '../../proto/gen/tandem/admin/v1/failover_audit.js';

const SERVING = 1;

export class RegionClient {
  readonly connection: Connection;
  private readonly failovers: FailoverServiceClient;
  private readonly audits: FailoverAuditServiceClient;

  /** Sent with every tandem.admin.v1 call (the SDK's connection sends its own). */
  private readonly metadata = new grpc.Metadata();

  constructor(
    readonly region: string,
    readonly endpoint: string,
    { tls, apiKey }: { tls?: ClientTlsFiles; apiKey?: string } = {},
  ) {
    // One set of credentials for the SDK's connection and the admin clients: a re-issued CA or
    // certificate reaches their next connection without a restart. The key goes as a header,
    // since the SDK refuses its apiKey option beside credentials.
    const credentials = channelCredentials(tls);
    if (apiKey) this.metadata.set('authorization', `Bearer ${apiKey}`);
    const metadata = apiKey ? { authorization: `Bearer ${apiKey}` } : undefined;
    this.connection = Connection.lazy({ address: endpoint, interceptors: [], credentials, metadata });
    this.failovers = new FailoverServiceClient(endpoint, credentials);
    this.audits = new FailoverAuditServiceClient(endpoint, credentials);
  }

  /** Runs fn's WorkflowService calls with a deadline timeoutMs from now. */
  within<T>(timeoutMs: number, fn: (svc: Connection['workflowService']) => Promise<T>): Promise<T> {
    return this.connection.withDeadline(Date.now() + timeoutMs, () => fn(this.connection.workflowService));
  }

  /** grpc.health.v1 of the whole server: SERVING or not (an unreachable region throws). */
  async serving(timeoutMs: number): Promise<boolean> {
    const r = await this.connection.withDeadline(Date.now() + timeoutMs, () => this.connection.healthService.check({ service: '' }));
    return r.status === SERVING;
  }

  /** Every namespace the region holds (global and local). */
  async namespaces(timeoutMs: number): Promise<NamespaceRecord[]> {
    const out: NamespaceRecord[] = [];
    let nextPageToken: Uint8Array = Buffer.alloc(0);
    do {
      const page = await this.within(timeoutMs, (svc) => svc.listNamespaces({ pageSize: 1000, nextPageToken }));
      for (const ns of page.namespaces) out.push(fromDescribeNamespaceResponse(ns, 0n));
      nextPageToken = page.nextPageToken;
    } while (nextPageToken.length > 0);
    return out;
  }

  /** The namespace's active region as this region's own store has it (DescribeNamespace is never forwarded). */
  async activeRegionOf(namespace: string, timeoutMs: number): Promise<string | undefined> {
    const d = await this.within(timeoutMs, (svc) => svc.describeNamespace({ namespace }));
    return d.replicationConfig?.activeClusterName ?? undefined;
  }

  failover(req: FailoverNamespaceRequest, timeoutMs: number): Promise<FailoverNamespaceResponse> {
    return new Promise((resolve, reject) =>
      this.failovers.failoverNamespace(req, this.metadata, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  audit(limit: number, timeoutMs: number, namespace = ''): Promise<FailoverAuditEntry[]> {
    return new Promise((resolve, reject) =>
      this.audits.listFailoverAudit({ namespace, limit }, this.metadata, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res.entries))),
    );
  }

  async close(): Promise<void> {
    this.failovers.close();
    this.audits.close();
    await this.connection.close();
  }
}

/** A gRPC error's one-line description ("UNAVAILABLE: connect ECONNREFUSED"), or the error's message. */
export function describeError(err: unknown): string {
  const e = err as Partial<grpc.ServiceError> & { cause?: Partial<grpc.ServiceError> };
  const s = e?.code !== undefined ? e : e?.cause?.code !== undefined ? e.cause : undefined;
  if (s) return `${grpc.status[s.code!] ?? s.code}: ${(s.details ?? '').replace(/\s*Resolution note:\s*$/, '')}`;
  return err instanceof Error ? err.message : String(err);
}

/** An audit entry as the page and `tandem failover log` show it (bigints as numbers and strings). */
export function auditView(e: FailoverAuditEntry) {
  return {
    namespace: e.namespace,
    fromRegion: e.fromRegion,
    toRegion: e.toRegion,
    fromVersion: e.fromVersion.toString(),
    toVersion: e.toVersion.toString(),
    mode: e.mode as 'graceful' | 'forced',
    outcome: e.outcome as 'completed' | 'aborted',
    identity: e.identity,
    message: e.message,
    startedAtMs: toNumber(e.startedAtMs),
    finishedAtMs: toNumber(e.finishedAtMs),
    ...(e.lagSeconds !== undefined && { lagTasks: toNumber(e.lagTasks ?? 0n), lagSeconds: e.lagSeconds }),
  };
}
