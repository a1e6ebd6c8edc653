// A fresh `tandem dev` process on a fresh store for one bench run (the test harness's server, with
// a shard count and metrics ports of its own), and the probe that reads its CPU time, and on a
// Cassandra of this machine the JVM's, from /proc. One region (`--regions 1`, the frontend on the
// address), or regions a and b replicating behind the global endpoint (`make dev`, SQLite only:
// the harness's two-region fixture), each region's own frontend and /metrics on ports of its own.
import { freePort, StoreFixture, TandemProcess, type StoreKind } from '../test-e2e/harness.js';
import { processProbe, type CpuProbe } from './cpu.js';
import { localListenerPid, processUsage } from './procfs.js';

export interface DevServerOptions {
  store: StoreKind;
  /** `--shards`; undefined keeps `tandem dev`'s default. */
  numShards?: number;
  /** 1 (default) or 2: regions a and b, `address` then being the global endpoint. */
  regions?: 1 | 2;
  /** `--auth`: every call needs an API key; the server's bootstrap admin key is `apiKey`. */
  auth?: boolean;
  /** Two regions only: `tandem dev --tls <topologyFile>`, checked against the CA `ca`. */
  tls?: { topologyFile: string; ca: Buffer };
}

/** A region of the server: its own frontend (not the global endpoint) and its /metrics. */
export interface DevRegion {
  name: string;
  address: string;
  metricsUrl: string;
}

/** The harness picks its fixture and region flags from this variable (test-e2e/harness.ts). */
const REGIONS_ENV = 'TANDEM_E2E_REGIONS';

async function withRegionsUnderTest<T>(regions: 1 | 2, f: () => Promise<T>): Promise<T> {
  const saved = process.env[REGIONS_ENV];
  process.env[REGIONS_ENV] = String(regions);
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env[REGIONS_ENV];
    else process.env[REGIONS_ENV] = saved;
  }
}

/** Process groups a dev server's probe reads: the server, and Cassandra when it runs here. */
export const SERVER_PARTY = 'server';
export const CASSANDRA_PARTY = 'cassandra';

export class DevServer {
  private constructor(
    private readonly fixture: StoreFixture,
    private readonly server: TandemProcess,
    readonly pid: number,
    /** One entry per region, a first. */
    readonly regions: DevRegion[],
    readonly probe: CpuProbe,
    /** With auth: the admin key the server printed. */
    readonly apiKey?: string,
  ) {}

  /** The first region's /metrics. */
  get metricsUrl(): string {
    return this.regions[0]!.metricsUrl;
  }

  /** Spawns the server and resolves once its frontend answers; the store is disposed with it. */
  static async start(o: DevServerOptions): Promise<DevServer> {
    const regionCount = o.regions ?? 1;
    if (regionCount === 2 && o.store !== 'sqlite') throw new Error('two regions run on SQLite only in bench/');
    const fixture = await withRegionsUnderTest(regionCount, () => StoreFixture.create(o.store));
    try {
      const metricsPorts = [await freePort(), ...(regionCount === 2 ? [await freePort()] : [])];
      const ports = regionCount === 2 ? [await freePort(), await freePort()] : [];
      // The harness's region flags come first; these (the last of each flag wins) name the ports.
      const portArgs = regionCount === 2 ? ['--ports', ports.join(','), '--metrics-ports', metricsPorts.join(','), '--ops-page-port', '0'] : ['--metrics-port', String(metricsPorts[0])];
      const shardArgs = o.numShards === undefined ? [] : ['--shards', String(o.numShards)];
      const tlsArgs = o.tls ? ['--tls', o.tls.topologyFile] : [];
      const server = await withRegionsUnderTest(regionCount, () =>
        TandemProcess.start(fixture, [...portArgs, ...shardArgs, ...tlsArgs, ...(o.auth ? ['--auth'] : [])], o.tls && { serverRootCACertificate: o.tls.ca }),
      );
      const apiKey = o.auth ? await server.adminApiKey() : undefined;
      const pid = server.pid!;
      const cassandraPid = fixture.contactPoint ? localListenerPid(fixture.contactPoint) : null;
      const probe = processProbe({ [SERVER_PARTY]: [pid], ...(cassandraPid === null ? {} : { [CASSANDRA_PARTY]: [cassandraPid] }) });
      const regions = metricsPorts.map((m, i) => ({
        name: 'ab'[i]!,
        address: regionCount === 2 ? `127.0.0.1:${ports[i]}` : server.address,
        metricsUrl: `http://127.0.0.1:${m}/metrics`,
      }));
      return new DevServer(fixture, server, pid, regions, probe, apiKey);
    } catch (err) {
      await fixture.dispose();
      throw err;
    }
  }

  get address(): string {
    return this.server.address;
  }

  /** The server's resident memory now; NaN once it is gone. */
  rssBytes(): number {
    return processUsage(this.pid)?.rssBytes ?? NaN;
  }

  async stop(): Promise<void> {
    try {
      await this.server.stop();
    } finally {
      await this.fixture.dispose();
    }
  }
}
