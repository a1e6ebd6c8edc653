import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationFromMs } from '../common/proto-time.js';
import { compileScheduleSpec } from './schedule-spec.js';

const sec = (s: number) => durationFromMs(s * 1000);
const at = (iso: string) => Date.parse(iso);

test('an interval fires at epoch multiples, strictly after the given time', () => {
  const spec = compileScheduleSpec({ interval: [{ interval: sec(90 * 60) }] }, 's');
  assert.equal(spec.next(at('2022-03-23T12:53:02Z'))?.nominalMs, at('2022-03-23T13:30:00Z'));
  assert.equal(spec.next(at('2022-03-23T13:30:00Z'))?.nominalMs, at('2022-03-23T15:00:00Z'));
  assert.equal(spec.next(at('2022-03-23T13:29:59.999Z'))?.nominalMs, at('2022-03-23T13:30:00Z'));
});

test('a phase shifts an interval', () => {
  const spec = compileScheduleSpec({ interval: [{ interval: sec(3600), phase: sec(5 * 60 + 30) }] }, 's');
  assert.equal(spec.next(at('2022-03-23T12:53:02Z'))?.nominalMs, at('2022-03-23T13:05:30Z'));
  assert.equal(spec.next(at('2022-03-23T13:05:30Z'))?.nominalMs, at('2022-03-23T14:05:30Z'));
});

test('several intervals fire at the union of their times', () => {
  const spec = compileScheduleSpec({ interval: [{ interval: sec(3600) }, { interval: sec(3600), phase: sec(1200) }] }, 's');
  const times: number[] = [];
  for (let t = spec.next(at('2022-03-23T12:00:00Z')); times.length < 3; t = spec.next(t!.nominalMs)) times.push(t!.nominalMs);
  assert.deepEqual(times, [at('2022-03-23T12:20:00Z'), at('2022-03-23T13:00:00Z'), at('2022-03-23T13:20:00Z')]);
});

test('invalid intervals are INVALID_ARGUMENT', () => {
  assert.throws(() => compileScheduleSpec({ interval: [{ interval: sec(-3600) }] }, 's'), /interval is too small/);
  assert.throws(() => compileScheduleSpec({ interval: [{ interval: sec(3 * 3600), phase: sec(4 * 3600) }] }, 's'), /phase cannot be greater than Interval/);
});
