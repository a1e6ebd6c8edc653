// What `tandem chaos` does to a topology run by `tandem up`, each action returning one line per
// thing it did. Kills are SIGKILL on the pids of the run state (nodes) and of the store launchers'
// pidfiles (a region's Cassandra and Redis): a crash, with no goodbye to membership or Cassandra.
// Reviving needs the launcher (it owns the processes); partitions go through the links' control.
import { cassandraStatus } from '../cassandra/launcher.js';
import { alive } from '../daemon.js';
import { redisStatus } from '../redis/launcher.js';
import { storeName } from '../processes/local-cluster.js';
import { findLink, findNode, findRegion, regionNodes, TopologyError, type Topology } from '../topology.js';
import { sleep } from '../../services/common/lifecycle.js';
import { reviveRegion as askLauncherToRevive } from './launcher-control.js';
import { linkControl } from './link-control.js';
import type { RunState } from './run-state.js';

const GONE_WITHIN_MS = 10_000;

/** SIGKILL, then waits (bounded) until the process is gone, so the next command sees it dead. */
async function killPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + GONE_WITHIN_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} is still alive ${GONE_WITHIN_MS} ms after SIGKILL`);
    await sleep(50);
  }
}

async function killProcess(state: RunState, id: string): Promise<string> {
  const rec = state.liveProcess(id);
  if (!rec) return `${id}: not running`;
  await killPid(rec.pid);
  return `killed ${id} (${rec.kind}, pid ${rec.pid}) with SIGKILL`;
}

export async function killNode(t: Topology, state: RunState, region: string, nodeId: string): Promise<string[]> {
  findNode(findRegion(t, region), nodeId);
  return [await killProcess(state, nodeId)];
}

/** Every node of the region, and its Cassandra and Redis when `tandem up` manages them, at once. */
export async function killRegion(t: Topology, state: RunState, region: string): Promise<string[]> {
  const r = findRegion(t, region);
  const kills: Promise<string>[] = regionNodes(r).map(({ node }) => killProcess(state, node.id));
  const store = async (name: string, managed: boolean, status: () => Promise<{ pid: number | null }>): Promise<string> => {
    if (!managed) return `${name}: external (managed: false), left running`;
    const { pid } = await status();
    if (pid === null) return `${name}: not running`;
    await killPid(pid);
    return `killed ${name} (pid ${pid}) with SIGKILL`;
  };
  const cassandra = storeName.cassandra(r.name);
  const redis = storeName.redis(r.name);
  kills.push(store(cassandra, r.cassandra.managed, () => cassandraStatus(cassandra)));
  kills.push(store(redis, r.redis.managed, () => redisStatus(redis)));
  return Promise.all(kills);
}

export async function reviveRegion(t: Topology, state: RunState, region: string): Promise<string[]> {
  findRegion(t, region);
  const lines = await askLauncherToRevive(state, region);
  return lines.length > 0 ? lines : [`${region}: nothing was down`];
}

/** Cuts the links both ways between two regions. */
export async function partition(t: Topology, r1: string, r2: string): Promise<string[]> {
  findRegion(t, r1);
  findRegion(t, r2);
  const links = [findLink(t, r1, r2), findLink(t, r2, r1)].filter((l) => l !== undefined);
  if (links.length === 0) throw new TopologyError(`the topology has no link between ${r1} and ${r2}: add them to global.links to partition them`);
  return Promise.all(
    links.map(async (l) => {
      await linkControl(l, 'cut');
      return `cut ${l.id}: ${l.from} no longer reaches ${l.to} (connections dropped, new ones refused)`;
    }),
  );
}

/** Heals every link of the topology. */
export async function heal(t: Topology): Promise<string[]> {
  if (t.global.links.length === 0) throw new TopologyError('the topology has no links (global.links): nothing to heal');
  return Promise.all(
    t.global.links.map(async (l) => {
      const before = await linkControl(l, 'state');
      await linkControl(l, 'heal');
      return `healed ${l.id}${before.cut ? '' : ' (was not cut)'}`;
    }),
  );
}
