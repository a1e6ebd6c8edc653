import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationFromMs, timestampFromMs } from '../common/proto-time.js';
import { compileCalendar } from './calendar.js';
import { parseCalendarString } from './calendar-string.js';
import { compileScheduleSpec, type CompiledSpec } from './schedule-spec.js';
import { loadTimeZone } from './time-zone.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const sec = (s: number) => durationFromMs(s * 1000);

function sequence(spec: CompiledSpec, fromIso: string, n: number): string[] {
  const out: string[] = [];
  for (let t = spec.next(at(fromIso)); t && out.length < n; t = spec.next(t.nominalMs)) out.push(iso(t.nominalMs));
  return out;
}

test('a structured calendar with stepped ranges fires at each listed time', () => {
  const spec = compileScheduleSpec(
    { structuredCalendar: [{ second: [{ start: 0 }], minute: [{ start: 0, end: 30, step: 15 }], hour: [{ start: 9, end: 10 }], dayOfMonth: [{ start: 1, end: 31 }], month: [{ start: 1, end: 12 }], dayOfWeek: [{ start: 0, end: 6 }] }] },
    's',
  );
  assert.deepEqual(sequence(spec, '2024-05-01T10:20:00Z', 5), [
    '2024-05-01T10:30:00.000Z',
    '2024-05-02T09:00:00.000Z',
    '2024-05-02T09:15:00.000Z',
    '2024-05-02T09:30:00.000Z',
    '2024-05-02T10:00:00.000Z',
  ]);
});

test('day of month and day of week must both match, and a missing day is skipped', () => {
  // Friday the 13th at noon.
  const fri13 = compileScheduleSpec({ calendar: [{ hour: '12', dayOfMonth: '13', dayOfWeek: 'fri' }] }, 's');
  assert.deepEqual(sequence(fri13, '2024-01-01T00:00:00Z', 3), ['2024-09-13T12:00:00.000Z', '2024-12-13T12:00:00.000Z', '2025-06-13T12:00:00.000Z']);
  const the31st = compileScheduleSpec({ calendar: [{ dayOfMonth: '31', month: 'jan-apr' }] }, 's');
  assert.deepEqual(sequence(the31st, '2024-01-31T00:00:00Z', 2), ['2024-03-31T00:00:00.000Z', '2025-01-31T00:00:00.000Z']);
  const leap = compileScheduleSpec({ calendar: [{ dayOfMonth: '29', month: 'February' }] }, 's');
  assert.deepEqual(sequence(leap, '2024-03-01T00:00:00Z', 2), ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']);
});

test('month and weekday names, steps and Sunday as 7 parse as the reference does', () => {
  const spec = compileScheduleSpec({ calendar: [{ hour: '8', dayOfWeek: 'Mon-Wed/2,7', month: 'feb/5' }] }, 's');
  // February, July and December; Mondays, Wednesdays and Sundays.
  assert.deepEqual(sequence(spec, '2024-06-30T09:00:00Z', 4), [
    '2024-07-01T08:00:00.000Z',
    '2024-07-03T08:00:00.000Z',
    '2024-07-07T08:00:00.000Z',
    '2024-07-08T08:00:00.000Z',
  ]);
});

test('a year range ends the schedule', () => {
  const spec = compileScheduleSpec({ calendar: [{ dayOfMonth: '1', month: '1', year: '2024-2025' }] }, 's');
  assert.deepEqual(sequence(spec, '2023-06-01T00:00:00Z', 5), ['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
});

test('calendars and intervals together fire at the union of their times', () => {
  const spec = compileScheduleSpec({ cronString: ['0 12 * * *'], interval: [{ interval: sec(5 * 3600) }] }, 's');
  // Every 5 h counted from the epoch: 04:00, 09:00, 14:00, 19:00 on this day.
  assert.deepEqual(sequence(spec, '2024-05-01T09:00:00Z', 3), ['2024-05-01T12:00:00.000Z', '2024-05-01T14:00:00.000Z', '2024-05-01T19:00:00.000Z']);
});

test('an excluded time is skipped, by string or structured exclusion', () => {
  const spec = compileScheduleSpec(
    { interval: [{ interval: sec(90 * 60) }], excludeCalendar: [{ hour: '12-14', minute: '*', second: '*' }] },
    's',
  );
  assert.deepEqual(sequence(spec, '2022-03-23T08:00:00Z', 4), ['2022-03-23T09:00:00.000Z', '2022-03-23T10:30:00.000Z', '2022-03-23T15:00:00.000Z', '2022-03-23T16:30:00.000Z']);
  const weekdays = compileScheduleSpec(
    { cronString: ['0 9 * * *'], excludeStructuredCalendar: [{ second: [{ start: 0, end: 59 }], minute: [{ start: 0, end: 59 }], hour: [{ start: 0, end: 23 }], dayOfMonth: [{ start: 1, end: 31 }], month: [{ start: 1, end: 12 }], dayOfWeek: [{ start: 0 }, { start: 6 }] }] },
    's',
  );
  assert.deepEqual(sequence(weekdays, '2024-05-03T10:00:00Z', 2), ['2024-05-06T09:00:00.000Z', '2024-05-07T09:00:00.000Z']);
});

test('a spec whose every time is excluded never fires', () => {
  const spec = compileScheduleSpec({ interval: [{ interval: sec(7 * 86400) }], excludeCalendar: [{ second: '*', minute: '*', hour: '*' }] }, 's');
  assert.equal(spec.next(at('2022-03-23T12:53:02Z')), null);
  assert.equal(compileScheduleSpec({}, 's').next(0), null);
});

test('start_time and end_time bound the nominal times, start_time itself included', () => {
  const spec = compileScheduleSpec(
    {
      interval: [{ interval: sec(3600) }],
      startTime: timestampFromMs(at('2024-05-01T10:00:00Z')),
      endTime: timestampFromMs(at('2024-05-01T12:00:00Z')),
    },
    's',
  );
  assert.deepEqual(sequence(spec, '2024-01-01T00:00:00Z', 5), ['2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z', '2024-05-01T12:00:00.000Z']);
});

test('daily 02:30 skips the spring-forward day and 01:30 fires in both copies of the fall-back hour (the reference)', () => {
  const ny230 = compileScheduleSpec({ calendar: [{ hour: '2', minute: '30' }], timezoneName: 'America/New_York' }, 's');
  assert.deepEqual(sequence(ny230, '2024-03-09T00:00:00Z', 2), ['2024-03-09T07:30:00.000Z', '2024-03-11T06:30:00.000Z']);
  const ny130 = compileScheduleSpec({ calendar: [{ hour: '1', minute: '30' }], timezoneName: 'America/New_York' }, 's');
  assert.deepEqual(sequence(ny130, '2024-11-02T12:00:00Z', 4), [
    '2024-11-03T05:30:00.000Z', // 01:30 EDT
    '2024-11-03T06:30:00.000Z', // 01:30 EST
    '2024-11-04T06:30:00.000Z',
    '2024-11-05T06:30:00.000Z',
  ]);
  const berlin = compileScheduleSpec({ cronString: ['CRON_TZ=Europe/Berlin 30 2 * * *'] }, 's');
  assert.deepEqual(sequence(berlin, '2024-03-30T00:00:00Z', 2), ['2024-03-30T01:30:00.000Z', '2024-04-01T00:30:00.000Z']);
  assert.deepEqual(sequence(berlin, '2024-10-26T12:00:00Z', 3), [
    '2024-10-27T00:30:00.000Z', // 02:30 CEST
    '2024-10-27T01:30:00.000Z', // 02:30 CET
    '2024-10-28T01:30:00.000Z',
  ]);
});

test('in a repeated hour, times interleave in UTC order (the reference test, US/Pacific 2021)', () => {
  const spec = compileScheduleSpec({ cronString: ['CRON_TZ=US/Pacific 33 33,44 1 * * * *'] }, 's');
  assert.deepEqual(sequence(spec, '2021-11-07T07:15:15Z', 5), [
    '2021-11-07T08:33:33.000Z',
    '2021-11-07T08:44:33.000Z',
    '2021-11-07T09:33:33.000Z',
    '2021-11-07T09:44:33.000Z',
    '2021-11-08T09:33:33.000Z',
  ]);
  // From inside the first copy: the rest of it, then the second copy.
  assert.deepEqual(sequence(spec, '2021-11-07T08:40:00Z', 2), ['2021-11-07T08:44:33.000Z', '2021-11-07T09:33:33.000Z']);
  // From inside the second copy.
  assert.deepEqual(sequence(spec, '2021-11-07T09:40:00Z', 2), ['2021-11-07T09:44:33.000Z', '2021-11-08T09:33:33.000Z']);
});

test('hourly across both transitions in New York keeps one-hour UTC steps', () => {
  const spec = compileScheduleSpec({ cronString: ['@hourly'], timezoneName: 'America/New_York' }, 's');
  const fall = sequence(spec, '2024-11-03T04:00:00Z', 4).map(at);
  assert.deepEqual(fall.slice(1).map((t, i) => t - fall[i]!), [3600_000, 3600_000, 3600_000]);
  const spring = sequence(spec, '2024-03-10T05:00:00Z', 3);
  assert.deepEqual(spring, ['2024-03-10T06:00:00.000Z', '2024-03-10T07:00:00.000Z', '2024-03-10T08:00:00.000Z']);
});

test('next() steps by fields: a rare calendar far away is found quickly', () => {
  const spec = compileScheduleSpec({ calendar: [{ second: '59', minute: '59', hour: '23', dayOfMonth: '29', month: 'feb', dayOfWeek: 'sun' }], timezoneName: 'Europe/Berlin' }, 's');
  const started = performance.now();
  assert.deepEqual(sequence(spec, '2024-01-01T00:00:00Z', 2), ['2032-02-29T22:59:59.000Z', '2060-02-29T22:59:59.000Z']);
  assert.ok(performance.now() - started < 500);
});

test('next() agrees with a minute-by-minute scan of matches() across transitions', () => {
  const cases: [string, string][] = [
    ['America/New_York', '2024-03-09T12:00:00Z'],
    ['America/New_York', '2024-11-02T12:00:00Z'],
    ['Europe/Berlin', '2024-03-30T12:00:00Z'],
    ['Europe/Berlin', '2024-10-26T12:00:00Z'],
  ];
  for (const [zone, fromIso] of cases) {
    const tz = loadTimeZone(zone);
    for (const c of [{ minute: '*/20', hour: '0-3' }, { minute: '15,45', hour: '*' }, { minute: '30', hour: '2' }]) {
      const cal = compileCalendar(parseCalendarString(c), tz);
      const from = at(fromIso) / 1000;
      const scanned: number[] = [];
      for (let t = from + 60; t <= from + 2 * 86400; t += 60) if (cal.matches(t)) scanned.push(t);
      const stepped: number[] = [];
      for (let t = cal.next(from); t !== null && t <= from + 2 * 86400; t = cal.next(t)) stepped.push(t);
      assert.deepEqual(stepped.map((t) => iso(t * 1000)), scanned.map((t) => iso(t * 1000)), `${zone} ${JSON.stringify(c)}`);
    }
  }
});
