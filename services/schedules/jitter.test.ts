import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationFromMs } from '../common/proto-time.js';
import { jitteredMs } from './jitter.js';
import { compileScheduleSpec, matchingTimes } from './schedule-spec.js';

const at = (iso: string) => Date.parse(iso);

test('jitter is a deterministic offset in [0, max) that depends on the seed and the nominal time', () => {
  const nominal = at('2024-05-01T10:00:00Z');
  assert.equal(jitteredMs('a', nominal, 60_000), jitteredMs('a', nominal, 60_000));
  const offsets = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const offset = jitteredMs('a', nominal + i * 1000, 60_000) - nominal - i * 1000;
    assert.ok(offset >= 0 && offset < 60_000);
    offsets.add(offset);
  }
  assert.ok(offsets.size > 150);
  assert.notEqual(jitteredMs('a', nominal, 3_600_000), jitteredMs('b', nominal, 3_600_000));
  assert.equal(jitteredMs('a', nominal, 0), nominal);
});

test('jitter never reaches the next nominal time, and two compilations agree', () => {
  const spec = { interval: [{ interval: durationFromMs(60_000) }], jitter: durationFromMs(3_600_000) };
  const a = compileScheduleSpec(spec, 'sched-1');
  const b = compileScheduleSpec(spec, 'sched-1');
  for (let t = a.next(at('2024-05-01T00:00:00Z')), i = 0; i < 100; t = a.next(t!.nominalMs), i++) {
    assert.ok(t!.actualMs >= t!.nominalMs && t!.actualMs < t!.nominalMs + 60_000);
    assert.deepEqual(b.next(t!.nominalMs - 1), t);
  }
});

test('matchingTimes lists jittered times after from, up to to included, at most 1000 (as the reference)', () => {
  const spec = compileScheduleSpec({ interval: [{ interval: durationFromMs(3_600_000) }], jitter: durationFromMs(1000) }, 's');
  const times = matchingTimes(spec, at('2024-05-01T00:00:00Z'), at('2024-05-01T02:30:00Z'));
  assert.deepEqual(times.map((t) => Math.floor(t / 1000) * 1000), [at('2024-05-01T01:00:00Z'), at('2024-05-01T02:00:00Z')]);
  const hourly = compileScheduleSpec({ interval: [{ interval: durationFromMs(3_600_000) }] }, 's');
  assert.deepEqual(matchingTimes(hourly, at('2024-05-01T00:00:00Z'), at('2024-05-01T03:00:00Z')), [
    at('2024-05-01T01:00:00Z'),
    at('2024-05-01T02:00:00Z'),
    at('2024-05-01T03:00:00Z'),
  ]);
  const everySecond = compileScheduleSpec({ calendar: [{ second: '*', minute: '*', hour: '*' }] }, 's');
  const many = matchingTimes(everySecond, at('2024-05-01T00:00:00Z'), at('2024-05-02T00:00:00Z'));
  assert.equal(many.length, 1000);
  assert.equal(many[0], at('2024-05-01T00:00:01Z'));
  assert.equal(many[999], at('2024-05-01T00:16:40Z'));
});
