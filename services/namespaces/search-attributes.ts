// Search attributes as Temporal defines them: the system ones every run has (record columns), the
// predefined ones the server and SDKs set (TemporalChangeVersion, BuildIds, ...), and each
// namespace's custom ones, kept in the namespace record's config JSON so they replicate with it.
// Values arrive as Payloads (json/plain); they are checked and converted to typed values here, with
// the type the namespace declares, which is authoritative over any `type` metadata an SDK sets.
import { apiError } from '../common/errors.js';
import { enums, type commonv1 } from '../common/temporal.js';
import type { NamespaceRecord } from '../persistence/types.js';
import { visibilityColumns, type SearchAttributeType, type TypedValue } from '../persistence/visibility-query.js';
import { parseExtraConfig } from './convert.js';

/** Stored and answered as record columns (visibilityColumns); a client never sets them. */
export const systemSearchAttributes: Readonly<Record<string, SearchAttributeType>> = visibilityColumns;

/** Predefined attributes a client or an SDK may set (the reference server's whitelist). */
const userSettablePredefined: Readonly<Record<string, SearchAttributeType>> = {
  TemporalChangeVersion: 'KeywordList',
  BinaryChecksums: 'KeywordList',
  BuildIds: 'KeywordList',
  BatcherNamespace: 'Keyword',
  BatcherUser: 'Keyword',
  TemporalScheduledStartTime: 'Datetime',
  TemporalScheduledById: 'Keyword',
  TemporalSchedulePaused: 'Bool',
  TemporalNamespaceDivision: 'Keyword',
  TemporalPauseInfo: 'KeywordList',
  TemporalReportedProblems: 'KeywordList',
};

/** Every predefined attribute: the settable ones, and those only the server writes (worker deployments). */
export const predefinedSearchAttributes: Readonly<Record<string, SearchAttributeType>> = {
  ...userSettablePredefined,
  TemporalWorkerDeploymentVersion: 'Keyword',
  TemporalWorkflowVersioningBehavior: 'Keyword',
  TemporalWorkerDeployment: 'Keyword',
};

/** Field names of the reference server's stores, refused as attribute names. */
const reservedNames = new Set(['NamespaceId', 'Memo', 'MemoEncoding', 'VisibilityTaskKey']);
const RESERVED_PREFIX = 'Temporal';
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 255;

/** The reference server's defaults (limit.searchAttributes*). */
export const searchAttributeLimits = Object.freeze({ numberOfKeys: 100, valueSizeBytes: 2 * 1024, totalSizeBytes: 40 * 1024 });

const typeByEnum: Record<number, SearchAttributeType> = {
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_TEXT]: 'Text',
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]: 'Keyword',
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_INT]: 'Int',
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE]: 'Double',
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_BOOL]: 'Bool',
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME]: 'Datetime',
  [enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST]: 'KeywordList',
};
const enumByType = Object.fromEntries(Object.entries(typeByEnum).map(([n, t]) => [t, Number(n)])) as Record<SearchAttributeType, number>;

export function typeFromEnum(value: number): SearchAttributeType | undefined {
  return typeByEnum[value];
}

export function typeToEnum(type: SearchAttributeType): number {
  return enumByType[type];
}

type NamespaceConfig = Pick<NamespaceRecord, 'name' | 'config'>;

/** The namespace's custom attributes, by name. */
export function customSearchAttributes(ns: Pick<NamespaceRecord, 'config'>): Record<string, SearchAttributeType> {
  return { ...(parseExtraConfig(ns.config).customSearchAttributes ?? {}) };
}

/**
 * What a query may name besides the record columns: the namespace's custom attributes and every
 * predefined one, by name. The visibility query parser resolves names with it.
 */
export function searchAttributeTypes(ns: Pick<NamespaceRecord, 'config'>): Record<string, SearchAttributeType> {
  return { ...predefinedSearchAttributes, ...customSearchAttributes(ns) };
}

/** The system, predefined, reserved names and the `Temporal` prefix: never a custom attribute. */
export function isReservedSearchAttributeName(name: string): boolean {
  return name in systemSearchAttributes || name in predefinedSearchAttributes || reservedNames.has(name) || name.startsWith(RESERVED_PREFIX);
}

/** INVALID_ARGUMENT unless `name` may be added as a custom attribute. */
export function checkCustomSearchAttributeName(name: string): void {
  if (!name) throw apiError('INVALID_ARGUMENT', 'Search attribute name is not set.');
  if (name.length > MAX_NAME_LENGTH) throw apiError('TOO_LONG', 'Search attribute name', MAX_NAME_LENGTH);
  if (isReservedSearchAttributeName(name)) throw apiError('INVALID_ARGUMENT', `Search attribute ${name} is reserved by system.`);
  if (!NAME_PATTERN.test(name)) {
    throw apiError('INVALID_ARGUMENT', `Search attribute name ${JSON.stringify(name)} must start with a letter or _ and hold only letters, digits and _.`);
  }
}

/** The record's config with `change` applied to its custom attributes, every other key kept. */
export function withCustomSearchAttributes(
  config: string,
  change: (current: Record<string, SearchAttributeType>) => Record<string, SearchAttributeType>,
): string {
  const extra = parseExtraConfig(config);
  return JSON.stringify({ ...extra, customSearchAttributes: change({ ...(extra.customSearchAttributes ?? {}) }) });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A payload's JSON value; undefined for binary/null (an upsert that clears the attribute). */
function payloadJson(name: string, p: commonv1.IPayload): unknown {
  const encoding = p.metadata?.encoding ? utf8.decode(p.metadata.encoding) : '';
  if (encoding === 'binary/null') return undefined;
  if (encoding !== 'json/plain') throw apiError('INVALID_ARGUMENT', `Search attribute ${name}: encoding ${JSON.stringify(encoding)} is not supported; use json/plain.`);
  try {
    return JSON.parse(utf8.decode(p.data ?? new Uint8Array()));
  } catch {
    throw apiError('INVALID_ARGUMENT', `Search attribute ${name}: the payload is not valid JSON.`);
  }
}

function scalar(type: SearchAttributeType, v: unknown): string | number | boolean | undefined {
  switch (type) {
    case 'Keyword':
    case 'Text':
      return typeof v === 'string' ? v : undefined;
    case 'Int':
      return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
    case 'Double':
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    case 'Bool':
      return typeof v === 'boolean' ? v : undefined;
    case 'Datetime': {
      const ms = typeof v === 'string' ? Date.parse(v) : NaN;
      return Number.isNaN(ms) ? undefined : ms;
    }
    case 'KeywordList':
      return undefined;
  }
}

/**
 * The typed value of one attribute's payload, or null when the payload clears it. Legacy clients
 * send every value as a list: a one-element list is accepted for a single-valued type.
 */
export function decodeSearchAttribute(name: string, type: SearchAttributeType, p: commonv1.IPayload): TypedValue | null {
  const v = payloadJson(name, p);
  if (v === undefined || v === null) return null;
  const bad = (held: unknown) => apiError('INVALID_ARGUMENT', `search attribute ${name} of type ${type} cannot hold ${JSON.stringify(held)}`);
  if (type === 'KeywordList') {
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x): x is string => typeof x === 'string')) throw bad(v);
    return { type, value: list };
  }
  const one: unknown = Array.isArray(v) && v.length === 1 ? v[0] : v;
  const value = scalar(type, one);
  if (value === undefined) throw bad(one);
  return { type, value };
}

/** The type `name` has in the namespace for a client to set, or INVALID_ARGUMENT. */
function settableType(ns: NamespaceConfig, custom: Record<string, SearchAttributeType>, name: string): SearchAttributeType {
  const type = custom[name] ?? userSettablePredefined[name];
  if (type) return type;
  if (name in systemSearchAttributes || name in predefinedSearchAttributes || reservedNames.has(name)) {
    throw apiError('INVALID_ARGUMENT', `Search attribute ${name} is reserved by system and cannot be set.`);
  }
  throw apiError('INVALID_ARGUMENT', `search attribute ${name} is not defined in namespace ${ns.name}; add it with temporal operator search-attribute create`);
}

function payloadSize(p: commonv1.IPayload): number {
  let size = p.data?.length ?? 0;
  for (const [k, v] of Object.entries(p.metadata ?? {})) size += k.length + v.length;
  return size;
}

/** binary/null, JSON null or an empty list: the SDKs' way to unset an attribute. */
function clears(p: commonv1.IPayload): boolean {
  const encoding = p.metadata?.encoding ? Buffer.from(p.metadata.encoding).toString('utf8') : '';
  const data = Buffer.from(p.data ?? new Uint8Array()).toString('utf8');
  return encoding === 'binary/null' || (encoding === 'json/plain' && (data === 'null' || data === '[]'));
}

/** What a run holds after an upsert: its attributes with the upserted ones set, those it clears removed. */
export function mergeSearchAttributes(
  held: commonv1.ISearchAttributes | null | undefined,
  upsert: commonv1.ISearchAttributes | null | undefined,
): commonv1.ISearchAttributes {
  const fields = { ...(held?.indexedFields ?? {}) };
  for (const [name, p] of Object.entries(upsert?.indexedFields ?? {})) {
    if (clears(p)) delete fields[name];
    else fields[name] = p;
  }
  return { indexedFields: fields };
}

/**
 * Checks search attributes a client or a workflow sets (start, child, continue-as-new, upsert):
 * every name defined in the namespace, every value of its type, each value and the whole within
 * the reference server's size limits. `merged`, when given, is what the run holds after an upsert,
 * whose count and total size are checked instead of the upsert's alone. Throws INVALID_ARGUMENT.
 */
export function validateSearchAttributes(
  ns: NamespaceConfig,
  sa: commonv1.ISearchAttributes | null | undefined,
  merged?: commonv1.ISearchAttributes | null,
): void {
  const fields = Object.entries(sa?.indexedFields ?? {});
  // Most starts set none, and the custom ones are the namespace config's JSON, parsed each time.
  const custom = fields.length > 0 ? customSearchAttributes(ns) : {};
  const limits = searchAttributeLimits;
  for (const [name, p] of fields) {
    const type = settableType(ns, custom, name);
    const size = p.data?.length ?? 0;
    if (size > limits.valueSizeBytes) {
      throw apiError('INVALID_ARGUMENT', `search attribute ${name} value size ${size} exceeds size limit ${limits.valueSizeBytes}`);
    }
    decodeSearchAttribute(name, type, p);
  }
  const all = Object.entries((merged ?? sa)?.indexedFields ?? {});
  if (all.length > limits.numberOfKeys) {
    throw apiError('INVALID_ARGUMENT', `number of search attributes ${all.length} exceeds limit ${limits.numberOfKeys}`);
  }
  const total = all.reduce((sum, [name, p]) => sum + name.length + payloadSize(p), 0);
  if (total > limits.totalSizeBytes) {
    throw apiError('INVALID_ARGUMENT', `total size of search attributes ${total} exceeds size limit ${limits.totalSizeBytes}`);
  }
}

/**
 * The typed values of a run's search attributes for its visibility record. Lenient, as a record
 * must still be written: an attribute removed from the namespace since, or a value that no longer
 * fits its type, is left out rather than failing the visibility task.
 */
export function typedSearchAttributes(ns: Pick<NamespaceRecord, 'config'>, sa: commonv1.ISearchAttributes | null | undefined): Record<string, TypedValue> {
  const fields = Object.entries(sa?.indexedFields ?? {});
  const out: Record<string, TypedValue> = {};
  // A record is written at every start and close, mostly without attributes: no config to parse then.
  if (fields.length === 0) return out;
  const types = searchAttributeTypes(ns);
  for (const [name, p] of fields) {
    const type = types[name];
    if (!type) continue;
    try {
      const v = decodeSearchAttribute(name, type, p);
      if (v) out[name] = v;
    } catch {
      continue;
    }
  }
  return out;
}
