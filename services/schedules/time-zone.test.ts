import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTimeZone } from './time-zone.js';

const s = (iso: string) => Date.parse(iso) / 1000;

test('a segment of constant offset ends at the next daylight-saving transition', () => {
  const ny = loadTimeZone('America/New_York');
  assert.deepEqual(ny.segment(s('2024-02-01T00:00:00Z')), { offsetSec: -5 * 3600, endSec: s('2024-03-10T07:00:00Z') });
  assert.deepEqual(ny.segment(s('2024-03-10T07:00:00Z')), { offsetSec: -4 * 3600, endSec: s('2024-11-03T06:00:00Z') });
  const berlin = loadTimeZone('Europe/Berlin');
  assert.deepEqual(berlin.segment(s('2024-10-27T00:59:59Z')), { offsetSec: 2 * 3600, endSec: s('2024-10-27T01:00:00Z') });
  assert.equal(berlin.wall(s('2024-07-01T12:00:00Z')), s('2024-07-01T14:00:00Z'));
  // No transitions: the segment is cut at the lookahead.
  const tokyo = loadTimeZone('Asia/Tokyo').segment(s('2024-05-01T00:00:00Z'));
  assert.equal(tokyo.offsetSec, 9 * 3600);
  assert.ok(tokyo.endSec > s('2025-05-01T00:00:00Z'));
  assert.deepEqual(loadTimeZone('UTC').segment(0), { offsetSec: 0, endSec: Infinity });
});

test('an unknown zone is INVALID_ARGUMENT', () => {
  assert.throws(() => loadTimeZone('Mars/Olympus_Mons'), /unknown time zone "Mars\/Olympus_Mons"/);
});
