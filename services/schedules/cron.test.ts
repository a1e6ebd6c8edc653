import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TandemError } from '../common/errors.js';
import { durationFromMs, msFromDuration } from '../common/proto-time.js';
import { parseCalendarString } from './calendar-string.js';
import { parseCronString } from './cron.js';
import { canonicalScheduleSpec, compileScheduleSpec } from './schedule-spec.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test('calendar strings parse to the reference ranges', () => {
  const cal = parseCalendarString({ minute: '2-6/4,7-8', hour: '*/3', dayOfWeek: 'mon-Friday', month: 'Sept', dayOfMonth: '13,18' });
  assert.deepEqual(cal.second, [{ start: 0, end: 0, step: 0 }]);
  assert.deepEqual(cal.minute, [{ start: 2, end: 6, step: 4 }, { start: 7, end: 8, step: 0 }]);
  assert.deepEqual(cal.hour, [{ start: 0, end: 23, step: 3 }]);
  assert.deepEqual(cal.dayOfWeek, [{ start: 1, end: 5, step: 0 }]);
  assert.deepEqual(cal.month, [{ start: 9, end: 0, step: 0 }]);
  assert.deepEqual(cal.dayOfMonth, [{ start: 13, end: 0, step: 0 }, { start: 18, end: 0, step: 0 }]);
  assert.deepEqual(cal.year, []);
  // Sunday written as 7.
  assert.deepEqual(parseCalendarString({ dayOfWeek: '3-7' }).dayOfWeek, [{ start: 0, end: 0, step: 0 }, { start: 3, end: 6, step: 0 }]);
  assert.deepEqual(parseCalendarString({ dayOfWeek: '1-7' }).dayOfWeek, [{ start: 1, end: 6, step: 0 }]);
  assert.deepEqual(parseCalendarString({ dayOfWeek: '3-7/3' }).dayOfWeek, [{ start: 3, end: 6, step: 3 }]);
  assert.deepEqual(parseCalendarString({ dayOfWeek: '7' }).dayOfWeek, [{ start: 0, end: 0, step: 0 }]);
});

test('cron strings: 5, 6 and 7 fields, shorthands, comments and zones', () => {
  assert.deepEqual(parseCronString('15 3 * * *').calendar?.minute, [{ start: 15, end: 0, step: 0 }]);
  assert.deepEqual(parseCronString('15 3 * * * 2030').calendar?.year, [{ start: 2030, end: 0, step: 0 }]);
  const seven = parseCronString('  CRON_TZ=Europe/Berlin 5 15 3 * * * * # nightly  ');
  assert.equal(seven.timezoneName, 'Europe/Berlin');
  assert.deepEqual(seven.calendar?.second, [{ start: 5, end: 0, step: 0 }]);
  assert.equal(seven.calendar?.comment, 'nightly');
  assert.equal(parseCronString('TZ=Asia/Tokyo @daily').timezoneName, 'Asia/Tokyo');
  assert.deepEqual(parseCronString('@weekly').calendar?.dayOfWeek, [{ start: 0, end: 0, step: 0 }]);
  const every = parseCronString('@every 14h/3h');
  assert.equal(msFromDuration(every.interval?.interval), 14 * 3_600_000);
  assert.equal(msFromDuration(every.interval?.phase), 3 * 3_600_000);
  assert.equal(msFromDuration(parseCronString('@every 1d12h').interval?.interval), 36 * 3_600_000);
});

test('a cron zone places the calendar, @daily in Tokyo fires at 15:00 UTC', () => {
  const spec = compileScheduleSpec({ cronString: ['CRON_TZ=Asia/Tokyo @daily'] }, 's');
  assert.equal(iso(spec.next(at('2024-05-01T00:00:00Z'))?.nominalMs), '2024-05-01T15:00:00.000Z');
  const every = compileScheduleSpec({ cronString: ['@every 90m/30m'] }, 's');
  assert.equal(iso(every.next(at('2024-05-01T00:00:00Z'))?.nominalMs), '2024-05-01T00:30:00.000Z');
});

test('the canonical form of a cron string is a structured calendar with explicit ranges', () => {
  const canonical = canonicalScheduleSpec({ cronString: ['CRON_TZ=America/New_York 23 5,7 * * mon-fri # weekdays'], jitter: durationFromMs(60_000) });
  assert.deepEqual(canonical.cronString, []);
  assert.equal(canonical.timezoneName, 'America/New_York');
  assert.deepEqual(canonical.structuredCalendar, [
    {
      second: [{ start: 0, end: 0, step: 1 }],
      minute: [{ start: 23, end: 23, step: 1 }],
      hour: [{ start: 5, end: 5, step: 1 }, { start: 7, end: 7, step: 1 }],
      dayOfMonth: [{ start: 1, end: 31, step: 1 }],
      month: [{ start: 1, end: 12, step: 1 }],
      year: [],
      dayOfWeek: [{ start: 1, end: 5, step: 1 }],
      comment: 'weekdays',
    },
  ]);
  assert.equal(msFromDuration(canonical.jitter), 60_000);
  const every = canonicalScheduleSpec({ cronString: ['@every 43h'], calendar: [{ hour: '1' }] });
  assert.equal(msFromDuration(every.interval?.[0]?.interval), 43 * 3_600_000);
  assert.equal(every.structuredCalendar?.length, 1);
  assert.deepEqual(every.calendar, []);
});

test('invalid specs name the bad part', () => {
  const bad = (spec: Parameters<typeof compileScheduleSpec>[0], message: string) =>
    assert.throws(() => compileScheduleSpec(spec, 's'), (e) => {
      assert.ok(e instanceof TandemError && e.code === 'INVALID_ARGUMENT');
      assert.equal(e.message, message);
      return true;
    });
  bad({ cronString: ['61 * * * *'] }, 'invalid schedule spec: cron_string "61 * * * *": Minute is not in range [0-59]');
  bad({ cronString: ['* * * *'] }, 'invalid schedule spec: cron_string "* * * *": CronString does not have 5-7 fields');
  bad({ cronString: ['CRON_TZ=UTC'] }, 'invalid schedule spec: cron_string "CRON_TZ=UTC": CronString has time zone but missing fields');
  bad({ cronString: ['@every'] }, 'invalid schedule spec: cron_string "@every": CronString does not have interval after @every');
  bad({ cronString: ['@every 5x'] }, 'invalid schedule spec: cron_string "@every 5x": invalid duration "5x"');
  bad({ cronString: ['0 0 * * 1-5-7'] }, 'invalid schedule spec: cron_string "0 0 * * 1-5-7": DayOfWeek has too many dashes');
  bad({ calendar: [{ hour: '18-13', minute: '2/3/5', month: 'ju' }] }, 'invalid schedule spec: calendar[0]: Minute has too many slashes, Hour End is before Start or not in range [0-23], Month is not in range [1-12]');
  bad({ excludeCalendar: [{ second: '5/' }] }, 'invalid schedule spec: exclude_calendar[0]: Second missing step value');
  bad({ structuredCalendar: [{ hour: [{ start: 24, end: 26 }], dayOfWeek: [{ start: 6, end: 7 }], year: [{ start: 1999 }] }] },
    'invalid schedule spec: structured_calendar[0]: Hour Start is not in range [0-23], Hour End is before Start or not in range [0-23], Year Start is not in range [2000-2100], DayOfWeek End is before Start or not in range [0-6]');
  bad({ cronString: ['CRON_TZ=Europe/London 0 * * * *', '0 12 * * *'] }, 'invalid schedule spec: conflicting timezone names');
  bad({ cronString: ['CRON_TZ=America/New_York 0 * * * *'], timezoneName: 'Europe/London' }, 'invalid schedule spec: conflicting timezone names');
  bad({ calendar: [{ hour: '1' }], timezoneName: 'Nowhere/Special' }, 'invalid schedule spec: unknown time zone "Nowhere/Special"');
});
