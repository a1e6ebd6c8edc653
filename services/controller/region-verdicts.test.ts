import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionVerdicts, type Observation } from './region-verdicts.js';

const config = { quorum: 2, downAfterMs: 3_000, staleAfterMs: 5_000 };

function probe(v: RegionVerdicts, failureDomain: string, region: string, healthy: boolean, atMs: number): void {
  const o: Observation = { observer: `${failureDomain}-observer`, failureDomain, region, healthy, atMs };
  v.observe(o);
}

/** Every domain probes every region once a second from t=0 to t=endMs; `sees` says what it sees. */
function run(v: RegionVerdicts, domains: string[], regions: string[], endMs: number, sees: (domain: string, region: string, t: number) => boolean) {
  for (let t = 0; t <= endMs; t += 1000) for (const d of domains) for (const r of regions) probe(v, d, r, sees(d, r, t), t);
}

test('a region that a quorum of failure domains sees down for the window is down', () => {
  const v = new RegionVerdicts(config);
  run(v, ['dom-a', 'dom-b', 'dom-c'], ['a', 'b'], 10_000, (_d, r, t) => !(r === 'a' && t >= 4_000));
  assert.equal(v.verdict('a', 6_000), 'suspect', 'seen down for 2 s: not yet');
  assert.equal(v.verdict('a', 7_000), 'down');
  assert.equal(v.verdict('b', 10_000), 'up');
  assert.deepEqual(v.accusers('a', 10_000), ['dom-a', 'dom-b', 'dom-c']);
});

test('one partitioned observer never declares a region down', () => {
  const v = new RegionVerdicts(config);
  run(v, ['dom-a', 'dom-b', 'dom-c'], ['a', 'b'], 60_000, (d) => d !== 'dom-c');
  assert.equal(v.verdict('a', 60_000), 'suspect');
  assert.equal(v.verdict('b', 60_000), 'suspect');
});

test('a cut between the regions alone never triggers a failover while both are healthy', () => {
  const v = new RegionVerdicts(config);
  // Each region's own domain loses the other region; the third domain sees both.
  run(v, ['dom-a', 'dom-b', 'dom-c'], ['a', 'b'], 60_000, (d, r) => !((d === 'dom-a' && r === 'b') || (d === 'dom-b' && r === 'a')));
  assert.notEqual(v.verdict('a', 60_000), 'down');
  assert.notEqual(v.verdict('b', 60_000), 'down');
});

test('a healthy probe in the window resets the clock; stale views have no vote', () => {
  const v = new RegionVerdicts(config);
  run(v, ['dom-a', 'dom-b'], ['a'], 10_000, (_d, _r, t) => t !== 5_000 && t >= 3_000 ? false : true);
  assert.equal(v.verdict('a', 7_000), 'suspect', 'healthy at 5 s: down only since 6 s');
  assert.equal(v.verdict('a', 9_000), 'down');
  assert.equal(v.verdict('a', 20_000), 'up', 'no observation for 10 s: no domain votes');
});

test('an out-of-order observation does not rewind a domain view', () => {
  const v = new RegionVerdicts(config);
  probe(v, 'dom-a', 'a', false, 1_000);
  probe(v, 'dom-a', 'a', true, 500);
  probe(v, 'dom-b', 'a', false, 1_000);
  assert.equal(v.verdict('a', 4_500), 'down');
});

test('a quorum of one is refused: one domain must never decide alone', () => {
  assert.throws(() => new RegionVerdicts({ ...config, quorum: 1 }), /quorum/);
});
