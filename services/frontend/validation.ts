// Input checks shared by the handlers (DESIGN invariant 11). Field names in messages follow
// Temporal's own ("WorkflowId is not set on request.") so SDK users recognise them.
import { randomUUID } from 'node:crypto';
import { apiError } from '../common/errors.js';
import { enums } from '../common/temporal.js';
import type { FrontendConfig } from './config.js';
import type { PbType } from '../common/grpc-codec.js';
import type Long from 'long';

type Limits = Pick<FrontendConfig, 'maxPayloadBytes' | 'maxIdLength' | 'defaultPageSize' | 'maxPageSize'>;

export function requireString(value: string | null | undefined, field: string, limits: Limits): string {
  if (!value) throw apiError('REQUIRED', field);
  return checkLength(value, field, limits);
}

/** A user's task queue; `/_sys/` names are matching's own (a deployment version's sub-queue). */
export function requireTaskQueueName(value: string | null | undefined, limits: Limits): string {
  const name = requireString(value, 'TaskQueue', limits);
  if (name.startsWith('/_sys/')) throw apiError('INVALID_ARGUMENT', `TaskQueue ${name} is reserved: names starting with /_sys/ are the server's.`);
  return name;
}

/** A versioned worker's deployment options; `.` and `:` delimit version strings, so no deployment name holds them (as the reference server). */
export function checkDeploymentOptions(opts: { deploymentName?: string | null; buildId?: string | null; workerVersioningMode?: number | null } | null | undefined, limits: Limits): void {
  if (!opts) return;
  checkLength(opts.deploymentName, 'DeploymentName', limits);
  checkLength(opts.buildId, 'BuildId', limits);
  if (opts.workerVersioningMode !== enums.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED) return;
  const name = requireString(opts.deploymentName, 'DeploymentOptions.DeploymentName', limits);
  requireString(opts.buildId, 'DeploymentOptions.BuildId', limits);
  if (/[.:]/.test(name)) throw apiError('INVALID_ARGUMENT', `Deployment name ${name} must not contain '.' or ':'.`);
}

export function checkLength<T extends string | null | undefined>(value: T, field: string, limits: Limits): T {
  if (value && value.length > limits.maxIdLength) throw apiError('TOO_LONG', field, limits.maxIdLength);
  return value;
}

/** The request id that makes a retried call idempotent; clients that send none get a fresh one. */
export function requestIdOrNew(value: string | null | undefined, limits: Limits): string {
  return checkLength(value, 'RequestId', limits) || randomUUID();
}

export function pageSize(value: number | null | undefined, field: string, limits: Limits): number {
  const v = value ?? 0;
  if (v < 0) throw apiError('INVALID_ARGUMENT', `${field} must not be negative.`);
  return v === 0 ? limits.defaultPageSize : Math.min(v, limits.maxPageSize);
}

const PAYLOAD = '.temporal.api.common.v1.Payload';
const DURATION = '.google.protobuf.Duration';

interface PayloadLike {
  data?: Uint8Array | null;
  metadata?: Record<string, Uint8Array> | null;
}

function payloadSize(p: PayloadLike | null | undefined): number {
  if (!p) return 0;
  let n = p.data?.length ?? 0;
  for (const [k, v] of Object.entries(p.metadata ?? {})) n += Buffer.byteLength(k) + (v?.length ?? 0);
  return n;
}

function messageType(field: PbType['fieldsArray'][number]): PbType | undefined {
  const t = field.resolve().resolvedType;
  return t && 'fieldsArray' in t ? (t as PbType) : undefined;
}

/** Types whose values may hold a Payload or a Duration somewhere below; the walk skips the rest. */
const relevant = new Map<string, boolean>();

function isRelevant(type: PbType): boolean {
  const known = relevant.get(type.fullName);
  if (known !== undefined) return known;
  // Plain reachability over the (cyclic) type graph; memoized per starting type.
  const seen = new Set([type.fullName]);
  const stack = [type];
  let found = false;
  while (stack.length > 0 && !found) {
    const t = stack.pop()!;
    if (t.fullName === PAYLOAD || t.fullName === DURATION || relevant.get(t.fullName) === true) found = true;
    for (const f of t.fieldsArray) {
      const child = messageType(f);
      if (child && !seen.has(child.fullName)) {
        seen.add(child.fullName);
        stack.push(child);
      }
    }
  }
  relevant.set(type.fullName, found);
  return found;
}

type PbField = PbType['fieldsArray'][number];

/** Per type, the fields the walk visits and their types: resolved once, not on every request. */
const walked = new Map<string, { field: PbField; type: PbType }[]>();

function fieldsToWalk(type: PbType): { field: PbField; type: PbType }[] {
  let fields = walked.get(type.fullName);
  if (!fields) {
    fields = [];
    for (const field of type.fieldsArray) {
      const t = messageType(field);
      if (t && isRelevant(t)) fields.push({ field, type: t });
    }
    walked.set(type.fullName, fields);
  }
  return fields;
}

function values(field: PbField, value: unknown): unknown[] {
  if (field.map) return Object.values(value as Record<string, unknown>);
  return field.repeated ? (value as unknown[]) : [value];
}

function fieldValues(field: PbType['fieldsArray'][number], value: unknown, path: string): [unknown, string][] {
  if (field.map) return Object.entries(value as Record<string, unknown>).map(([k, v]) => [v, `${path}[${JSON.stringify(k)}]`]);
  if (field.repeated) return (value as unknown[]).map((v, i) => [v, `${path}[${i}]`]);
  return [[value, path]];
}

function checkDuration(d: { seconds?: Long | number | null; nanos?: number | null }, path: string): void {
  const seconds = Number(d.seconds ?? 0);
  const nanos = d.nanos ?? 0;
  if (seconds < 0 || nanos < 0) throw apiError('INVALID_ARGUMENT', `${path} must not be negative.`);
  if (nanos > 999_999_999) throw apiError('INVALID_ARGUMENT', `${path} has invalid nanos ${nanos}.`);
}

/**
 * Walks a decoded request: every payload set (the Payload values of one field: Payloads.payloads,
 * a Memo's or Header's map) must fit maxPayloadBytes, and no Duration may be negative. Errors name
 * the field path, e.g. `commands[0].completeWorkflowExecutionCommandAttributes.result`.
 */
export function checkPayloadsAndDurations(type: PbType, msg: object, limits: Limits, path = ''): void {
  if (type.fullName === DURATION) return checkDuration(msg, path);
  for (const { field, type: t } of fieldsToWalk(type)) {
    const value = (msg as Record<string, unknown>)[field.name];
    if (value === null || value === undefined) continue;
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    if (t.fullName === PAYLOAD) {
      const size = values(field, value).reduce((n: number, p) => n + payloadSize(p as PayloadLike), 0);
      // The set is named by the message that holds it: `input`, not `input.payloads`.
      if (size > limits.maxPayloadBytes) throw apiError('PAYLOAD_TOO_LARGE', field.repeated || field.map ? path || field.name : fieldPath, size, limits.maxPayloadBytes);
      continue;
    }
    for (const [v, p] of fieldValues(field, value, fieldPath)) {
      if (v && typeof v === 'object') checkPayloadsAndDurations(t, v, limits, p);
    }
  }
}
