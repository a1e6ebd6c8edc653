import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLink, findNode, findRegion, frontendAddressFor, frontendTls, linkTls, loadTopology, parseTopology, regionClientTls, regionNodes, TopologyError } from './topology.js';
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

test('the global control plane: the endpoint with its metrics port, the DNS face, and a link per direction between the two regions', () => {
  const one = loadTopology(local('one-region.json'));
  assert.deepEqual(one.global.endpoint, { host: '127.0.0.1', port: 7233, metricsPort: 9233 });
  assert.equal(one.global.dns, undefined);
  assert.deepEqual(one.global.links, []);
  assert.equal(one.global.keyPrefix, 'tandem');
  assert.equal(regionConfigs(one, 'a')[0]!.frontendAddress, '127.0.0.1:7301');

  const two = loadTopology(local('two-regions.json'));
  assert.deepEqual(two.global.dns, { host: '127.0.0.1', port: 8053, domain: 'routes.tandem' });
  assert.deepEqual(findLink(two, 'b', 'a'), { id: 'link-b-a', from: 'b', to: 'a', host: '127.0.0.1', port: 7401, controlPort: 9401 });
  assert.equal(findLink(two, 'a', 'a'), undefined);
  // Each region reaches the other's frontend through the link, its own directly.
  const [a, b] = [findRegion(two, 'a'), findRegion(two, 'b')];
  assert.equal(frontendAddressFor(two, 'b', a), '127.0.0.1:7401');
  assert.equal(frontendAddressFor(two, 'a', b), '127.0.0.1:7402');
  assert.equal(frontendAddressFor(two, 'a', a), '127.0.0.1:7301');
  assert.deepEqual(regionConfigs(two, 'b').map((r) => r.frontendAddress), ['127.0.0.1:7401', '127.0.0.1:7302']);
  // Without a link the direction is direct.
  const oneWay = parseTopology({ ...JSON.parse(fs.readFileSync(local('two-regions.json'), 'utf8')), global: { links: [{ from: 'b', to: 'a', port: 7401, controlPort: 9401 }] } });
  assert.equal(frontendAddressFor(oneWay, 'a', findRegion(oneWay, 'b')), '127.0.0.1:7302');
});

test('the Kubernetes topology loads: an external Cassandra and Redis, pods advertised by DNS name', () => {
  const t = loadTopology(path.join(here, 'k8s', 'region-a', 'topology.json'));
  const a = findRegion(t, 'a');
  assert.equal(a.cassandra.managed, false);
  assert.equal(a.redis.managed, false);
  assert.deepEqual(a.history.map((n) => n.id), ['a-history-0', 'a-history-1', 'a-history-2']);
  assert.deepEqual(a.visibility, { store: 'opensearch', url: 'http://a-opensearch.tandem.svc.cluster.local:9200', index: 'tandem_visibility_a', shards: 3, replicas: 1 });
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
  bad((t) => (t.global.links[0].to = 'z'), /^global\.links\[0\]\.to "z" is not a region \(regions: a, b\)/);
  bad((t) => (t.global.links[1].to = 'b'), /^global\.links\[1\] links region b to itself/);
  bad((t) => t.global.links.push({ from: 'a', to: 'b', port: 7403, controlPort: 9403 }), /the link from a to b clashes with the link from a to b/);
  bad((t) => (t.global.links[0].port = 7301), /a-frontend port \(127\.0\.0\.1:7301\) clashes with link-a-b port/);
  bad((t) => delete t.global.links[0].controlPort, /^global\.links\[0\]\.controlPort must be an integer/);
  bad((t) => (t.global.endpoint.metricsPort = 9301), /a-frontend metricsPort \(127\.0\.0\.1:9301\) clashes with global\.endpoint metricsPort/);
  bad((t) => (t.global.keyPrefix = 'a b'), /^global\.keyPrefix "a b" must be a plain name/);
  bad((t) => (t.global.dns = { domain: 'Bad_Domain' }), /^global\.dns\.domain "Bad_Domain" is not a DNS name/);
  bad((t) => (t.regions[0].visibility = { store: 'elastic', url: 'http://h:9200' }), /^regions\[0\]\.visibility\.store must be "opensearch"/);
  bad((t) => (t.regions[0].visibility = { store: 'opensearch', url: 'h:9200' }), /^regions\[0\]\.visibility: .*not http/);
  bad((t) => (t.regions[0].visibility = { store: 'opensearch', url: 'http://h:9200', index: 'Bad' }), /^regions\[0\]\.visibility: .*index "Bad"/);
  assert.throws(() => loadTopology(path.join(here, 'nope.json')), /cannot read topology/);
});

test('TLS: two-regions-tls.json names certificates (and its admin key) under deploy/local/certs, on everywhere or nowhere', () => {
  const t = loadTopology(local('two-regions-tls.json'));
  const a = findRegion(t, 'a');
  assert.deepEqual(a.tls, {
    certFile: local('certs/a/frontend.pem'),
    keyFile: local('certs/a/frontend-key.pem'),
    caFile: local('certs/ca.pem'),
    clientCertFile: local('certs/a/client.pem'),
    clientKeyFile: local('certs/a/client-key.pem'),
    refreshMs: 10_000,
  });
  assert.deepEqual(linkTls(a.tls), { caFile: local('certs/ca.pem'), certFile: local('certs/a/client.pem'), keyFile: local('certs/a/client-key.pem'), refreshMs: 10_000 });
  assert.equal(frontendTls(a.tls)?.certFile, local('certs/a/frontend.pem'));
  assert.deepEqual(regionClientTls(t.global.endpoint.tls), { caFile: local('certs/ca.pem'), refreshMs: 10_000 });
  assert.equal(loadTopology(local('two-regions.json')).regions[0]!.tls, undefined);
  assert.deepEqual(t.global.auth, { adminKeyFile: local('certs/admin.key') });
  assert.equal(loadTopology(local('two-regions.json')).global.auth, undefined);

  const doc = JSON.parse(fs.readFileSync(local('two-regions-tls.json'), 'utf8'));
  assert.equal(parseTopology(doc, '/etc/tandem').regions[1]!.tls!.caFile, '/etc/tandem/certs/ca.pem');
  delete doc.regions[1].tls;
  assert.throws(() => parseTopology(doc), /regions\[1\]\.tls is required: regions\[0\]\.tls is set/);
  delete doc.regions[0].tls;
  assert.throws(() => parseTopology(doc), /regions\[0\]\.tls is required: global\.endpoint\.tls is set/);
  delete doc.global.endpoint.tls.keyFile;
  assert.throws(() => parseTopology(doc), /global\.endpoint\.tls\.keyFile must be a non-empty string/);
});
