import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTimeZone } from './time-zone.js';

const s = (iso: string) => Date.parse(iso) / 1000;

test('a wall time in a spring-forward gap has no instant, one in a fall-back overlap has two', () => {
  const ny = loadTimeZone('America/New_York');
  assert.deepEqual(ny.instants(s('2024-03-10T02:30:00Z')), []);
  assert.deepEqual(ny.instants(s('2024-03-10T03:30:00Z')), [s('2024-03-10T07:30:00Z')]);
  assert.deepEqual(ny.instants(s('2024-11-03T01:30:00Z')), [s('2024-11-03T05:30:00Z'), s('2024-11-03T06:30:00Z')]);
  const berlin = loadTimeZone('Europe/Berlin');
  assert.deepEqual(berlin.instants(s('2024-03-31T02:30:00Z')), []);
  assert.deepEqual(berlin.instants(s('2024-10-27T02:30:00Z')), [s('2024-10-27T00:30:00Z'), s('2024-10-27T01:30:00Z')]);
  assert.equal(berlin.wall(s('2024-07-01T12:00:00Z')), s('2024-07-01T14:00:00Z'));
});

test('fallBackAfter sees a coming fall-back and nothing else', () => {
  const ny = loadTimeZone('America/New_York');
  assert.equal(ny.fallBackAfter(s('2024-11-03T04:30:00Z')), 3600);
  assert.equal(ny.fallBackAfter(s('2024-03-10T05:30:00Z')), 0);
  assert.equal(loadTimeZone('UTC').fallBackAfter(0), 0);
});

test('an unknown zone is INVALID_ARGUMENT', () => {
  assert.throws(() => loadTimeZone('Mars/Olympus_Mons'), /unknown time zone "Mars\/Olympus_Mons"/);
});
