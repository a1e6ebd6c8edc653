// NamespaceRecord <-> temporal.api DescribeNamespaceResponse. Archival settings, custom search
// attributes and their aliases have no column of their own: they live in the record's `config` JSON.
import Long from 'long';
import type { namespacev1, workflowservice as ws } from '../common/temporal.js';
import { enums } from '../common/temporal.js';
import { apiError } from '../common/errors.js';
import type { NamespaceRecord, NamespaceState, ReplicationMode } from '../persistence/types.js';
import type { SearchAttributeType } from '../persistence/visibility-query.js';

/** The part of a namespace's config that only the Temporal API knows about. */
export interface NamespaceExtraConfig {
  historyArchivalState?: number;
  historyArchivalUri?: string;
  visibilityArchivalState?: number;
  visibilityArchivalUri?: string;
  customSearchAttributeAliases?: Record<string, string>;
  /** Custom search attributes by name (search-attributes.ts). */
  customSearchAttributes?: Record<string, SearchAttributeType>;
}

const stateToProto: Record<NamespaceState, enums.NamespaceState> = {
  registered: enums.NamespaceState.NAMESPACE_STATE_REGISTERED,
  deprecated: enums.NamespaceState.NAMESPACE_STATE_DEPRECATED,
  deleted: enums.NamespaceState.NAMESPACE_STATE_DELETED,
};

export function namespaceStateToProto(state: NamespaceState): enums.NamespaceState {
  return stateToProto[state];
}

export function namespaceStateFromProto(state: number | null | undefined): NamespaceState | undefined {
  switch (state) {
    case enums.NamespaceState.NAMESPACE_STATE_REGISTERED:
      return 'registered';
    case enums.NamespaceState.NAMESPACE_STATE_DEPRECATED:
      return 'deprecated';
    case enums.NamespaceState.NAMESPACE_STATE_DELETED:
      return 'deleted';
    default:
      return undefined;
  }
}

/**
 * The key of Temporal's namespace `data` map that carries the replication mode: standard tools set
 * it (RegisterNamespace / UpdateNamespace `data`), Describe shows it, and it is stored and
 * replicated with the record as it is.
 */
export const REPLICATION_MODE_KEY = 'tandem.replication';
const REPLICATION_MODES: readonly ReplicationMode[] = ['async', 'sync'];

/** The namespace's replication mode; a record without the key (or a local one) is async. */
export function replicationModeOf(rec: Pick<NamespaceRecord, 'data' | 'isGlobal'>): ReplicationMode {
  return rec.isGlobal && rec.data[REPLICATION_MODE_KEY] === 'sync' ? 'sync' : 'async';
}

/** INVALID_ARGUMENT for a mode Tandem does not know, or sync on a namespace that has no standby. */
export function checkReplicationMode(rec: Pick<NamespaceRecord, 'name' | 'data' | 'isGlobal' | 'regions'>): void {
  const mode = rec.data[REPLICATION_MODE_KEY];
  if (mode === undefined) return;
  if (!REPLICATION_MODES.some((m) => m === mode)) {
    throw apiError('INVALID_ARGUMENT', `Namespace ${rec.name}: data ${REPLICATION_MODE_KEY} must be one of ${REPLICATION_MODES.join(', ')}, got ${JSON.stringify(mode)}.`);
  }
  if (mode === 'sync' && !(rec.isGlobal && rec.regions.length > 1)) {
    throw apiError('INVALID_ARGUMENT', `Namespace ${rec.name}: ${REPLICATION_MODE_KEY}=sync needs a global namespace with more than one cluster.`);
  }
}

export function parseExtraConfig(config: string): NamespaceExtraConfig {
  if (!config) return {};
  try {
    const parsed: unknown = JSON.parse(config);
    return parsed && typeof parsed === 'object' ? (parsed as NamespaceExtraConfig) : {};
  } catch {
    return {};
  }
}

/** Milliseconds as the {seconds, nanos} of a google.protobuf Duration or Timestamp. */
export function msToSecondsNanos(ms: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: BigInt(whole), nanos: Math.round((ms - whole * 1000) * 1e6) };
}

type LongLike = Long | number | bigint | string | null | undefined;

export function toBigInt(v: LongLike): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  return BigInt(Long.fromValue(v).toString());
}

/** Duration to milliseconds; undefined when unset. */
export function durationToMs(d: { seconds?: LongLike; nanos?: number | null } | null | undefined): number | undefined {
  if (!d) return undefined;
  return Number(toBigInt(d.seconds)) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

export function toDescribeNamespaceResponse(rec: NamespaceRecord): ws.IDescribeNamespaceResponse {
  const extra = parseExtraConfig(rec.config);
  const info: namespacev1.INamespaceInfo = {
    name: rec.name,
    state: namespaceStateToProto(rec.state),
    description: rec.description,
    ownerEmail: rec.ownerEmail,
    data: { ...rec.data },
    id: rec.id,
    supportsSchedules: true,
    // What the SDKs may check per namespace; as GetSystemInfo, no eager start.
    capabilities: { eagerWorkflowStart: true, syncUpdate: true, asyncUpdate: true },
  };
  return {
    namespaceInfo: info,
    config: {
      workflowExecutionRetentionTtl: msToSecondsNanos(rec.retentionMs) as never,
      historyArchivalState: extra.historyArchivalState ?? enums.ArchivalState.ARCHIVAL_STATE_DISABLED,
      historyArchivalUri: extra.historyArchivalUri ?? '',
      visibilityArchivalState: extra.visibilityArchivalState ?? enums.ArchivalState.ARCHIVAL_STATE_DISABLED,
      visibilityArchivalUri: extra.visibilityArchivalUri ?? '',
      customSearchAttributeAliases: { ...(extra.customSearchAttributeAliases ?? {}) },
    },
    replicationConfig: {
      activeClusterName: rec.activeRegion,
      clusters: rec.regions.map((clusterName) => ({ clusterName })),
      state:
        rec.failoverState === 'handover'
          ? enums.ReplicationState.REPLICATION_STATE_HANDOVER
          : enums.ReplicationState.REPLICATION_STATE_NORMAL,
    },
    // protobufjs accepts bigint for int64 through fromObject; the generated type only says Long|number.
    failoverVersion: rec.failoverVersion as never,
    isGlobalNamespace: rec.isGlobal,
  };
}

/** The inverse of toDescribeNamespaceResponse; the response carries no notification version. */
export function fromDescribeNamespaceResponse(
  resp: ws.IDescribeNamespaceResponse,
  notificationVersion: bigint,
): NamespaceRecord {
  const info = resp.namespaceInfo ?? {};
  const config = resp.config ?? {};
  const repl = resp.replicationConfig ?? {};
  const extra: NamespaceExtraConfig = {
    historyArchivalState: config.historyArchivalState ?? undefined,
    historyArchivalUri: config.historyArchivalUri ?? undefined,
    visibilityArchivalState: config.visibilityArchivalState ?? undefined,
    visibilityArchivalUri: config.visibilityArchivalUri ?? undefined,
    customSearchAttributeAliases: { ...(config.customSearchAttributeAliases ?? {}) },
  };
  return {
    id: info.id ?? '',
    name: info.name ?? '',
    state: namespaceStateFromProto(info.state) ?? 'registered',
    description: info.description ?? '',
    ownerEmail: info.ownerEmail ?? '',
    data: { ...(info.data ?? {}) },
    retentionMs: durationToMs(config.workflowExecutionRetentionTtl) ?? 0,
    isGlobal: resp.isGlobalNamespace ?? false,
    activeRegion: repl.activeClusterName ?? '',
    regions: (repl.clusters ?? []).map((c) => c.clusterName ?? ''),
    failoverVersion: toBigInt(resp.failoverVersion as LongLike),
    failoverState: repl.state === enums.ReplicationState.REPLICATION_STATE_HANDOVER ? 'handover' : 'normal',
    notificationVersion,
    config: JSON.stringify(extra),
  };
}
