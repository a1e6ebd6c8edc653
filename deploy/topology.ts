// The topology file: every region's processes, ports and backing stores, in one JSON document
// shared by `tandem up`, `tandem status`, the process mains and the Kubernetes ConfigMap.
// parseTopology() validates it completely and names the offending path in its errors, so a typo
// fails at start instead of as a process that never joins.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TLS_REFRESH_MS, type ClientTlsFiles, type TlsFiles } from '../services/common/tls.js';
import { resolveOpenSearchConfig } from '../services/persistence/opensearch/visibility.js';

export interface NodeSpec {
  /** Stable node id, unique in the cluster, e.g. `a-history-1`: membership id and shard owner. */
  id: string;
  /** Address the node binds to. */
  host: string;
  /** Internal gRPC port (history, matching). */
  port: number;
  /** Port of GET /metrics and /healthz. */
  metricsPort: number;
}

export interface CassandraSpec {
  /** false: an external cluster (production, tests); `tandem up` does not start it. */
  managed: boolean;
  /** host:port list the processes connect to; default `listen:cqlPort`. */
  contactPoints: string[];
  dataCenter: string;
  listen: string;
  cqlPort: number;
  storagePort: number;
  heapMb: number;
  keyspace: string;
}

/** A region's visibility records in OpenSearch instead of its Cassandra keyspace. */
export interface OpenSearchVisibilitySpec {
  store: 'opensearch';
  /** The REST endpoint, http(s)://host:port. */
  url: string;
  /** Default `tandem_visibility_<region>`. */
  index: string;
  /** Primary shards of the index (fixed once it exists): one per node of the cluster spreads the load. */
  shards: number;
  /** Copies of each shard: 0 on a single node, 1 on the Kubernetes cluster. */
  replicas: number;
}

export interface RedisSpec {
  /** false: an external Redis; `tandem up` does not start it. */
  managed: boolean;
  host: string;
  port: number;
}

/**
 * A region's TLS: its frontend serves certFile to SDK clients and other regions; its processes
 * present clientCertFile to other regions' frontends (mutual TLS) and check their certificates,
 * and other regions' client certificates, against caFile. Paths are absolute once loaded
 * (relative ones are read from the topology file's folder).
 */
export interface RegionTlsSpec {
  certFile: string;
  keyFile: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** How often the files are re-read for rotation. */
  refreshMs: number;
}

/** The global endpoint's TLS: the certificate it serves, and the CA it checks the regions' frontends against. */
export interface EndpointTlsSpec {
  certFile: string;
  keyFile: string;
  caFile: string;
  refreshMs: number;
}

export interface RegionSpec {
  name: string;
  initialFailoverVersion: number;
  cassandra: CassandraSpec;
  /** Absent: visibility in the Cassandra keyspace with the rest. */
  visibility?: OpenSearchVisibilitySpec;
  redis: RedisSpec;
  frontend: NodeSpec;
  matching: NodeSpec[];
  history: NodeSpec[];
  /** Absent: plaintext (then in every region and at the global endpoint). */
  tls?: RegionTlsSpec;
}

export interface MembershipSpec {
  /** A member not heard from for this long is gone; its shards move. */
  ttlMs: number;
  heartbeatMs: number;
  pollMs: number;
}

/** The global endpoint: the router process (services/router) on the global Redis's routes. */
export interface EndpointSpec {
  host: string;
  port: number;
  /** /metrics and /healthz of the router process. */
  metricsPort: number;
  /** Present exactly when the regions have TLS. */
  tls?: EndpointTlsSpec;
}

/** The routes' DNS face (services/routes/dns-server.ts), served by the router process when configured. */
export interface DnsSpec {
  host: string;
  /** UDP. */
  port: number;
  domain: string;
}

/**
 * A TCP proxy the `from` region's processes reach the `to` region's frontend through (replication
 * streams, forwarding, namespace replication): what `tandem chaos partition` cuts.
 */
export interface LinkSpec {
  /** `link-<from>-<to>`. */
  id: string;
  from: string;
  to: string;
  host: string;
  port: number;
  /** HTTP on loopback: /healthz, /metrics, POST /cut, POST /heal. */
  controlPort: number;
}

/**
 * One replica of the failover controller (services/controller): its failure domain (the quorum is
 * of domains, so two replicas in one domain count once), /metrics and /healthz, and the operations
 * page it serves.
 */
export interface ControllerSpec {
  id: string;
  domain: string;
  host: string;
  metricsPort: number;
  opsPagePort: number;
}

/**
 * API keys on every region's frontend (and so through the global endpoint). The admin key file
 * holds the bootstrap key of the account admin `admin`: `tandem up` writes a new one (mode 0600)
 * when it is missing, each region's frontend adds it to its users and keys at start unless that
 * key was deleted, and the failover controller calls the regions with it.
 */
export interface AuthSpec {
  adminKeyFile: string;
}

export interface GlobalSpec {
  /** Absent: every call is let through, as make dev does by default. */
  auth?: AuthSpec;
  /** The route registry's Redis (and the controller's lease). */
  redis: RedisSpec;
  /** First segment of the global control plane's keys in that Redis (clusters sharing one Redis differ here). */
  keyPrefix: string;
  endpoint: EndpointSpec;
  /** Absent: no DNS face. */
  dns?: DnsSpec;
  /** One per direction at most; a direction without one is direct. */
  links: LinkSpec[];
  /** Default: two replicas in two domains, the smallest quorum that can declare a region down. */
  controllers: ControllerSpec[];
}

export interface Topology {
  cluster: { numShards: number; failoverVersionIncrement: number; membership: MembershipSpec };
  regions: RegionSpec[];
  global: GlobalSpec;
}

export type Service = 'frontend' | 'history' | 'matching';

export class TopologyError extends Error {
  override name = 'TopologyError';
}

const MEMBERSHIP_DEFAULTS: MembershipSpec = { ttlMs: 5_000, heartbeatMs: 1_000, pollMs: 500 };

type Json = Record<string, unknown>;

/** Reads one JSON value at a path and fails with that path in the message. */
class Reader {
  constructor(
    private readonly obj: Json,
    readonly path: string,
  ) {}

  static of(value: unknown, path: string): Reader {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TopologyError(`${path || 'topology'} must be an object`);
    return new Reader(value as Json, path);
  }

  private at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  object(key: string, fallback?: Json): Reader {
    const v = this.obj[key] ?? fallback;
    if (v === undefined) throw new TopologyError(`${this.at(key)} is required`);
    return Reader.of(v, this.at(key));
  }

  array(key: string): Reader[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) throw new TopologyError(`${this.at(key)} must be an array`);
    return v.map((item, i) => Reader.of(item, `${this.at(key)}[${i}]`));
  }

  string(key: string, fallback?: string): string {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'string' || v === '') throw new TopologyError(`${this.at(key)} must be a non-empty string`);
    return v;
  }

  strings(key: string, fallback: string[]): string[] {
    const v = this.obj[key] ?? fallback;
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || s === '')) {
      throw new TopologyError(`${this.at(key)} must be a non-empty array of strings`);
    }
    return v as string[];
  }

  int(key: string, min: number, max: number, fallback?: number): number {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new TopologyError(`${this.at(key)} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  }

  port(key: string, fallback?: number): number {
    return this.int(key, 1, 65535, fallback);
  }

  /** A file path, resolved against baseDir when relative. */
  file(key: string, baseDir: string): string {
    return path.resolve(baseDir, this.string(key));
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'boolean') throw new TopologyError(`${this.at(key)} must be true or false`);
    return v;
  }
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

function node(r: Reader, defaultId?: string): NodeSpec {
  const id = r.string('id', defaultId);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new TopologyError(`${r.path}.id ${JSON.stringify(id)} may hold letters, digits, _ . -`);
  return { id, host: r.string('host', '127.0.0.1'), port: r.port('port'), metricsPort: r.port('metricsPort') };
}

function endpointTls(t: Reader, baseDir: string): EndpointTlsSpec {
  return { certFile: t.file('certFile', baseDir), keyFile: t.file('keyFile', baseDir), caFile: t.file('caFile', baseDir), refreshMs: t.int('refreshMs', 50, 3_600_000, DEFAULT_TLS_REFRESH_MS) };
}

function regionTls(t: Reader, baseDir: string): RegionTlsSpec {
  return { ...endpointTls(t, baseDir), clientCertFile: t.file('clientCertFile', baseDir), clientKeyFile: t.file('clientKeyFile', baseDir) };
}

function region(r: Reader, increment: number, baseDir: string): RegionSpec {
  const name = r.string('name');
  if (!NAME.test(name)) throw new TopologyError(`${r.path}.name ${JSON.stringify(name)} must match ${NAME.source}`);
  const c = r.object('cassandra');
  const listen = c.string('listen', '127.0.0.1');
  const cqlPort = c.port('cqlPort');
  const keyspace = c.string('keyspace');
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(keyspace)) throw new TopologyError(`${c.path}.keyspace ${JSON.stringify(keyspace)} is not a Cassandra name`);
  const cassandra: CassandraSpec = {
    managed: c.bool('managed', true),
    contactPoints: c.strings('contactPoints', [`${listen}:${cqlPort}`]),
    dataCenter: c.string('dataCenter', 'datacenter1'),
    listen,
    cqlPort,
    storagePort: c.port('storagePort', 7000),
    heapMb: c.int('heapMb', 256, 65536, 512),
    keyspace,
  };
  const spec: RegionSpec = {
    name,
    initialFailoverVersion: r.int('initialFailoverVersion', 0, increment - 1),
    cassandra,
    ...(r.has('visibility') ? { visibility: visibility(r.object('visibility'), name) } : {}),
    redis: redis(r.object('redis')),
    frontend: node(r.object('frontend'), `${name}-frontend`),
    matching: r.array('matching').map((n) => node(n)),
    history: r.array('history').map((n) => node(n)),
    ...(r.has('tls') ? { tls: regionTls(r.object('tls'), baseDir) } : {}),
  };
  if (spec.matching.length === 0) throw new TopologyError(`${r.path}.matching needs at least one node`);
  if (spec.history.length === 0) throw new TopologyError(`${r.path}.history needs at least one node`);
  return spec;
}

function visibility(v: Reader, regionName: string): OpenSearchVisibilitySpec {
  const store = v.string('store');
  if (store !== 'opensearch') throw new TopologyError(`${v.path}.store must be "opensearch" (absent: visibility in Cassandra), got ${JSON.stringify(store)}`);
  const spec: OpenSearchVisibilitySpec = {
    store,
    url: v.string('url'),
    index: v.string('index', `tandem_visibility_${regionName.replace(/-/g, '_')}`),
    shards: v.int('shards', 1, 1024, 1),
    replicas: v.int('replicas', 0, 10, 0),
  };
  try {
    resolveOpenSearchConfig(spec);
  } catch (err) {
    throw new TopologyError(`${v.path}: ${(err as Error).message}`);
  }
  return spec;
}

function link(r: Reader, regions: RegionSpec[]): LinkSpec {
  const known = regions.map((x) => x.name);
  const end = (key: string) => {
    const name = r.string(key);
    if (!known.includes(name)) throw new TopologyError(`${r.path}.${key} ${JSON.stringify(name)} is not a region (regions: ${known.join(', ')})`);
    return name;
  };
  const from = end('from');
  const to = end('to');
  if (from === to) throw new TopologyError(`${r.path} links region ${from} to itself`);
  return { id: `link-${from}-${to}`, from, to, host: r.string('host', '127.0.0.1'), port: r.port('port'), controlPort: r.port('controlPort') };
}

function globalSpec(g: Reader, regions: RegionSpec[], baseDir: string): GlobalSpec {
  const endpoint = g.object('endpoint', { port: 7233 });
  const host = endpoint.string('host', '127.0.0.1');
  const keyPrefix = g.string('keyPrefix', 'tandem');
  if (!/^[A-Za-z0-9_.-]+$/.test(keyPrefix)) throw new TopologyError(`${g.path}.keyPrefix ${JSON.stringify(keyPrefix)} must be a plain name`);
  const spec: GlobalSpec = {
    redis: redis(g.object('redis', { port: 6390 })),
    keyPrefix,
    endpoint: {
      host,
      port: endpoint.port('port'),
      metricsPort: endpoint.port('metricsPort', 9233),
      ...(endpoint.has('tls') ? { tls: endpointTls(endpoint.object('tls'), baseDir) } : {}),
    },
    ...(g.has('auth') ? { auth: { adminKeyFile: g.object('auth').file('adminKeyFile', baseDir) } } : {}),
    links: g.has('links') ? g.array('links').map((l) => link(l, regions)) : [],
    controllers: g.has('controllers') ? g.array('controllers').map((c) => controller(c, host)) : DEFAULT_CONTROLLERS.map((c) => ({ ...c, host })),
  };
  if (g.has('dns')) {
    const d = g.object('dns');
    const domain = d.string('domain', 'routes.tandem');
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain)) throw new TopologyError(`${d.path}.domain ${JSON.stringify(domain)} is not a DNS name`);
    spec.dns = { host: d.string('host', host), port: d.port('port', 8053), domain };
  }
  return spec;
}

const DEFAULT_CONTROLLERS = [
  { id: 'controller-1', domain: 'zone-1', metricsPort: 9410, opsPagePort: 7280 },
  { id: 'controller-2', domain: 'zone-2', metricsPort: 9411, opsPagePort: 7281 },
];

function controller(c: Reader, host: string): ControllerSpec {
  return { id: c.string('id'), domain: c.string('domain'), host: c.string('host', host), metricsPort: c.port('metricsPort'), opsPagePort: c.port('opsPagePort') };
}

function redis(r: Reader): RedisSpec {
  return { managed: r.bool('managed', true), host: r.string('host', '127.0.0.1'), port: r.port('port') };
}

/**
 * Validates a parsed topology document; throws TopologyError naming the first bad field. Relative
 * certificate paths are resolved against baseDir (loadTopology: the file's folder).
 */
export function parseTopology(doc: unknown, baseDir = process.cwd()): Topology {
  const root = Reader.of(doc, '');
  const cluster = root.object('cluster');
  const increment = cluster.int('failoverVersionIncrement', 1, 1_000_000);
  const m = cluster.object('membership', {});
  const membership: MembershipSpec = {
    ttlMs: m.int('ttlMs', 500, 600_000, MEMBERSHIP_DEFAULTS.ttlMs),
    heartbeatMs: m.int('heartbeatMs', 50, 600_000, MEMBERSHIP_DEFAULTS.heartbeatMs),
    pollMs: m.int('pollMs', 50, 600_000, MEMBERSHIP_DEFAULTS.pollMs),
  };
  if (membership.heartbeatMs * 2 > membership.ttlMs) {
    throw new TopologyError(`cluster.membership.heartbeatMs must be at most half of ttlMs (a member would expire between two heartbeats)`);
  }
  const regions = root.array('regions').map((r) => region(r, increment, baseDir));
  if (regions.length === 0) throw new TopologyError('regions needs at least one region');
  const topo: Topology = {
    cluster: { numShards: cluster.int('numShards', 1, 16384), failoverVersionIncrement: increment, membership },
    regions,
    global: globalSpec(root.object('global', {}), regions, baseDir),
  };
  checkUnique(topo);
  checkTlsEverywhere(topo);
  return topo;
}

/** TLS on in every region and at the global endpoint, or nowhere: a plaintext end could not talk to a TLS one. */
function checkTlsEverywhere(t: Topology): void {
  const ends = [...t.regions.map((r, i) => ({ where: `regions[${i}].tls`, on: r.tls !== undefined })), { where: 'global.endpoint.tls', on: t.global.endpoint.tls !== undefined }];
  const on = ends.find((e) => e.on);
  const off = ends.find((e) => !e.on);
  if (on && off) throw new TopologyError(`${off.where} is required: ${on.where} is set, and TLS is on everywhere or nowhere`);
}

/** Region names, node ids, initial failover versions and every bound host:port are unique. */
function checkUnique(t: Topology): void {
  const seen = new Map<string, string>();
  const claim = (key: string, what: string) => {
    const prev = seen.get(key);
    if (prev) throw new TopologyError(`${what} clashes with ${prev}`);
    seen.set(key, what);
  };
  const addr = (host: string, port: number, what: string) => claim(`addr ${host === '0.0.0.0' ? '*' : host}:${port}`, `${what} (${host}:${port})`);
  addr(t.global.redis.host, t.global.redis.port, 'global.redis');
  addr(t.global.endpoint.host, t.global.endpoint.port, 'global.endpoint');
  addr(t.global.endpoint.host, t.global.endpoint.metricsPort, 'global.endpoint metricsPort');
  for (const c of t.global.controllers) {
    claim(`controller ${c.id}`, `controller ${c.id}`);
    addr(c.host, c.metricsPort, `${c.id} metricsPort`);
    addr(c.host, c.opsPagePort, `${c.id} opsPagePort`);
  }
  // DNS is UDP: it clashes with no TCP port.
  for (const l of t.global.links) {
    claim(`link ${l.id}`, `the link from ${l.from} to ${l.to}`);
    addr(l.host, l.port, `${l.id} port`);
    addr(l.host, l.controlPort, `${l.id} controlPort`);
  }
  for (const r of t.regions) {
    claim(`region ${r.name}`, `region ${r.name}`);
    claim(`version ${r.initialFailoverVersion}`, `region ${r.name}'s initialFailoverVersion ${r.initialFailoverVersion}`);
    if (r.cassandra.managed) {
      addr(r.cassandra.listen, r.cassandra.cqlPort, `${r.name} cassandra cqlPort`);
      addr(r.cassandra.listen, r.cassandra.storagePort, `${r.name} cassandra storagePort`);
    }
    if (r.redis.managed) addr(r.redis.host, r.redis.port, `${r.name} redis`);
    for (const n of [r.frontend, ...r.matching, ...r.history]) {
      claim(`node ${n.id}`, `node ${n.id}`);
      addr(n.host, n.port, `${n.id} port`);
      addr(n.host, n.metricsPort, `${n.id} metricsPort`);
    }
  }
}

export function loadTopology(file: string): Topology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TopologyError(`cannot read topology ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new TopologyError(`topology ${file} is not JSON: ${(err as Error).message}`);
  }
  try {
    return parseTopology(doc, path.dirname(path.resolve(file)));
  } catch (err) {
    if (err instanceof TopologyError) throw new TopologyError(`topology ${file}: ${err.message}`);
    throw err;
  }
}

export function findRegion(t: Topology, name: string): RegionSpec {
  const r = t.regions.find((x) => x.name === name);
  if (!r) throw new TopologyError(`no region ${JSON.stringify(name)} in the topology (regions: ${t.regions.map((x) => x.name).join(', ')})`);
  return r;
}

/** The service a node id plays in a region. */
export function findNode(r: RegionSpec, id: string): { service: Service; node: NodeSpec } {
  if (r.frontend.id === id) return { service: 'frontend', node: r.frontend };
  const m = r.matching.find((n) => n.id === id);
  if (m) return { service: 'matching', node: m };
  const h = r.history.find((n) => n.id === id);
  if (h) return { service: 'history', node: h };
  throw new TopologyError(`no node ${JSON.stringify(id)} in region ${r.name}`);
}

/** Every node of a region with its service, frontend last (it needs history and matching to answer). */
export function regionNodes(r: RegionSpec): { service: Service; node: NodeSpec }[] {
  return [
    ...r.history.map((node) => ({ service: 'history' as const, node })),
    ...r.matching.map((node) => ({ service: 'matching' as const, node })),
    { service: 'frontend' as const, node: r.frontend },
  ];
}

/** The link of one direction, if the topology puts one there. */
export function findLink(t: Topology, from: string, to: string): LinkSpec | undefined {
  return t.global.links.find((l) => l.from === from && l.to === to);
}

/** Where a client on this host dials a region's frontend (one bound to every address: loopback). */
export function frontendDialAddress(r: RegionSpec): string {
  return `${r.frontend.host === '0.0.0.0' ? '127.0.0.1' : r.frontend.host}:${r.frontend.port}`;
}

/** Where the processes of region `from` reach region `to`'s frontend: through the link, if any. */
export function frontendAddressFor(t: Topology, from: string, to: RegionSpec): string {
  const l = from === to.name ? undefined : findLink(t, from, to.name);
  return l ? `${l.host}:${l.port}` : `${to.frontend.host}:${to.frontend.port}`;
}

/** The TLS of a region's frontend server. */
export function frontendTls(tls: RegionTlsSpec | undefined): TlsFiles | undefined {
  return tls && { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile, refreshMs: tls.refreshMs };
}

/** What a region's processes present to, and check, other regions' frontends with. */
export function linkTls(tls: RegionTlsSpec | undefined): ClientTlsFiles | undefined {
  return tls && { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile, refreshMs: tls.refreshMs };
}

/** What reaches the regions' frontends from outside them (router, controller, CLI): the global endpoint's CA. */
export function regionClientTls(endpoint: EndpointTlsSpec | undefined): ClientTlsFiles | undefined {
  return endpoint && { caFile: endpoint.caFile, refreshMs: endpoint.refreshMs };
}

/** The admin key of a topology with auth (its file, written by `tandem up`); undefined without auth. */
export function topologyAdminKey(t: Topology): string | undefined {
  const file = t.global.auth?.adminKeyFile;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new TopologyError(`global.auth.adminKeyFile ${file} cannot be read (tandem up writes it): ${(err as Error).message}`);
  }
}

export function redisUrl(r: RedisSpec): string {
  return `redis://${r.host}:${r.port}`;
}
