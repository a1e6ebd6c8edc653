import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextCronDelayMs } from './cron.js';
import { isTandemError } from '../common/errors.js';

const at = (iso: string) => Date.parse(iso);

test('next fire time of five-field schedules, in UTC', () => {
  assert.equal(nextCronDelayMs('* * * * *', at('2026-01-01T00:00:30Z')), 30_000);
  assert.equal(nextCronDelayMs('*/15 * * * *', at('2026-01-01T00:01:00Z')), 14 * 60_000);
  assert.equal(nextCronDelayMs('0 12 * * *', at('2026-01-01T13:00:00Z')), 23 * 3_600_000);
  // 2026-01-01 is a Thursday; Monday 09:00 is 4 days later.
  assert.equal(nextCronDelayMs('0 9 * * 1', at('2026-01-01T09:00:00Z')), 4 * 86_400_000);
  assert.equal(nextCronDelayMs('@every 10s', 25_000), 5_000);
});

test('bad schedules are INVALID_ARGUMENT', () => {
  for (const bad of ['* * *', '61 * * * *', 'a b c d e', '5-1 * * * *']) {
    assert.throws(() => nextCronDelayMs(bad, 0), (e) => isTandemError(e, 'INVALID_ARGUMENT'), bad);
  }
});
