import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNode, findRegion, loadTopology, parseTopology, regionNodes, TopologyError } from './topology.js';
import { processConfig, regionConfigs } from './processes/region-config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const local = (f: string) => path.join(here, 'local', f);

test('the local topologies load: one region of three history nodes, and two regions with their own stores', () => {
  const one = loadTopology(local('one-region.json'));
  assert.equal(one.regions.length, 1);
  const a = findRegion(one, 'a');
  assert.deepEqual(a.history.map((n) => n.id), ['a-history-1', 'a-history-2', 'a-history-3']);
  assert.equal(`${a.frontend.host}:${a.frontend.port}`, '127.0.0.1:7301');
  assert.equal(a.cassandra.managed, true);
  assert.deepEqual(a.cassandra.contactPoints, ['127.0.0.1:9042']);
  assert.deepEqual(regionNodes(a).map((n) => n.service), ['history', 'history', 'history', 'matching', 'frontend']);

  const two = loadTopology(local('two-regions.json'));
  const [ra, rb] = [findRegion(two, 'a'), findRegion(two, 'b')];
  assert.equal(`${rb.frontend.host}:${rb.frontend.port}`, '127.0.0.1:7302');
  assert.notEqual(`${ra.cassandra.listen}:${ra.cassandra.cqlPort}`, `${rb.cassandra.listen}:${rb.cassandra.cqlPort}`);
  assert.notEqual(ra.redis.port, rb.redis.port);
  assert.deepEqual(
    regionConfigs(two).map((r) => [r.name, r.initialFailoverVersion, r.failoverVersionIncrement]),
    [
      ['a', 1n, 10n],
      ['b', 2n, 10n],
    ],
  );
});

test('the Kubernetes topology loads: an external Cassandra and Redis, pods advertised by DNS name', () => {
  const t = loadTopology(path.join(here, 'k8s', 'region-a', 'topology.json'));
  const a = findRegion(t, 'a');
  assert.equal(a.cassandra.managed, false);
  assert.equal(a.redis.managed, false);
  assert.deepEqual(a.history.map((n) => n.id), ['a-history-0', 'a-history-1', 'a-history-2']);
});

test('a process finds its node, and refuses a node of another service', () => {
  const file = local('one-region.json');
  const c = processConfig('history', ['--topology', file, '--region', 'a', '--node', 'a-history-2'], {});
  assert.equal(c.node.port, 7322);
  assert.equal(c.instanceId, 'a-history-2');
  assert.equal(c.advertiseHost, '127.0.0.1');
  const env = processConfig('history', [], { TANDEM_TOPOLOGY: file, TANDEM_REGION: 'a', TANDEM_NODE: 'a-history-1', TANDEM_BIND_HOST: '0.0.0.0' });
  assert.equal(env.bindHost, '0.0.0.0');
  assert.throws(() => processConfig('matching', ['--topology', file, '--region', 'a', '--node', 'a-history-1'], {}), /a-history-1 is a history node, not a matching node/);
  assert.throws(() => processConfig('history', ['--topology', file, '--region', 'z', '--node', 'x'], {}), /no region "z"/);
  assert.throws(() => findNode(findRegion(loadTopology(file), 'a'), 'nope'), /no node "nope" in region a/);
});

test('bad topologies fail with the path of the offending field', () => {
  const good = JSON.parse(fs.readFileSync(local('two-regions.json'), 'utf8')) as any;
  const bad = (edit: (t: any) => void, message: RegExp) => {
    const t = structuredClone(good);
    edit(t);
    assert.throws(() => parseTopology(t), (err: unknown) => err instanceof TopologyError && message.test(err.message));
  };
  bad((t) => delete t.cluster.numShards, /^cluster\.numShards must be an integer/);
  bad((t) => (t.regions[1].history[0].port = 'x'), /^regions\[1\]\.history\[0\]\.port must be an integer in \[1, 65535\], got "x"/);
  bad((t) => (t.regions[0].history[1].port = 7321), /a-history-2 port \(127\.0\.0\.1:7321\) clashes with a-history-1 port/);
  bad((t) => (t.regions[1].history[0].id = 'a-history-1'), /node a-history-1 clashes/);
  bad((t) => (t.regions[1].initialFailoverVersion = 1), /initialFailoverVersion 1 clashes/);
  bad((t) => (t.regions[1].initialFailoverVersion = 10), /regions\[1\]\.initialFailoverVersion must be an integer in \[0, 9\]/);
  bad((t) => (t.regions[0].cassandra.keyspace = 'bad-name'), /regions\[0\]\.cassandra\.keyspace "bad-name" is not a Cassandra name/);
  bad((t) => (t.regions[0].matching = []), /regions\[0\]\.matching needs at least one node/);
  bad((t) => (t.cluster.membership = { ttlMs: 1000, heartbeatMs: 800 }), /heartbeatMs must be at most half of ttlMs/);
  bad((t) => (t.regions = {}), /^regions must be an array/);
  assert.throws(() => loadTopology(path.join(here, 'nope.json')), /cannot read topology/);
});
