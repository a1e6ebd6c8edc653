// A fresh `tandem dev` process on a fresh store for one bench run (the test harness's server, with
// a shard count and a metrics port of its own), and the probe that reads its CPU time, and on a
// Cassandra of this machine the JVM's, from /proc.
import { freePort, StoreFixture, TandemProcess, type StoreKind } from '../test-e2e/harness.js';
import { processProbe, type CpuProbe } from './cpu.js';
import { localListenerPid, processUsage } from './procfs.js';

export interface DevServerOptions {
  store: StoreKind;
  /** `--shards`; undefined keeps `tandem dev`'s default. */
  numShards?: number;
}

/** Process groups a dev server's probe reads: the server, and Cassandra when it runs here. */
export const SERVER_PARTY = 'server';
export const CASSANDRA_PARTY = 'cassandra';

export class DevServer {
  private constructor(
    private readonly fixture: StoreFixture,
    private readonly server: TandemProcess,
    readonly pid: number,
    readonly metricsUrl: string,
    readonly probe: CpuProbe,
  ) {}

  /** Spawns the server and resolves once its frontend answers; the store is disposed with it. */
  static async start(o: DevServerOptions): Promise<DevServer> {
    const fixture = await StoreFixture.create(o.store);
    try {
      const metricsPort = await freePort();
      const server = await TandemProcess.start(fixture, ['--metrics-port', String(metricsPort), ...(o.numShards === undefined ? [] : ['--shards', String(o.numShards)])]);
      const pid = server.pid!;
      const cassandraPid = fixture.contactPoint ? localListenerPid(fixture.contactPoint) : null;
      const probe = processProbe({ [SERVER_PARTY]: [pid], ...(cassandraPid === null ? {} : { [CASSANDRA_PARTY]: [cassandraPid] }) });
      return new DevServer(fixture, server, pid, `http://127.0.0.1:${metricsPort}/metrics`, probe);
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
