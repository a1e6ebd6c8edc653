// The scheduler's fold and decisions, pure: every overlap policy, catch-up window, remaining
// actions, pause, trigger, backfill and the conflict token, on a fake every-10-seconds spec.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enums, type api, type historyv1 } from '../common/temporal.js';
import { durationFromMs, timestampFromMs } from '../common/proto-time.js';
import type { CompiledSpec } from './schedule-spec.js';
import { actionWorkflowId, futureActionTimes, plan, recordStarted, startFailed, wakeAtMs, WATCH_POLL_MS } from './scheduler.js';
import { bookkeepingOf, foldSchedulerState, type SchedulerState } from './scheduler-state.js';
import { BOOKKEEPING_MARKER, decodeFailure, decodePayloads, encodeBookkeeping, encodePatch, encodeStartArgs, encodeUpdateArgs, SIGNAL_PATCH, SIGNAL_UPDATE } from './scheduler-wire.js';

const ET = enums.EventType;
const O = enums.ScheduleOverlapPolicy;
const T0 = Date.UTC(2026, 11, 3, 7, 40, 0);
const S = 1000;

/** Every 10 s from T0; the actual time is the nominal one. */
const every10s: CompiledSpec = {
  next(afterMs) {
    const n = T0 + (Math.floor((afterMs - T0) / (10 * S)) + 1) * 10 * S;
    return { nominalMs: n, actualMs: n };
  },
};

function schedule(over: Partial<api.schedule.v1.ISchedule> = {}, overlapPolicy = 0): api.schedule.v1.ISchedule {
  return {
    spec: { interval: [{ interval: durationFromMs(10 * S) }] },
    action: { startWorkflow: { workflowId: 'wf', workflowType: { name: 'W' }, taskQueue: { name: 'q' } } },
    policies: { overlapPolicy },
    ...over,
  };
}

let nextId = 1;
function ev(eventType: number, atMs: number, attrs: historyv1.IHistoryEvent): historyv1.IHistoryEvent {
  return { eventId: nextId++ as never, eventType, eventTime: timestampFromMs(atMs), ...attrs };
}
const started = (s: api.schedule.v1.ISchedule, patch: api.schedule.v1.ISchedulePatch | null = null) =>
  ev(ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, T0, { workflowExecutionStartedEventAttributes: { input: encodeStartArgs({ schedule: s, initialPatch: patch, createTimeMs: T0, carried: null }) } });
const patched = (atMs: number, patch: api.schedule.v1.ISchedulePatch) =>
  ev(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, atMs, { workflowExecutionSignaledEventAttributes: { signalName: SIGNAL_PATCH, input: encodePatch(patch) } });
const updated = (atMs: number, s: api.schedule.v1.ISchedule, conflictToken: number) =>
  ev(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, atMs, { workflowExecutionSignaledEventAttributes: { signalName: SIGNAL_UPDATE, input: encodeUpdateArgs({ schedule: s, conflictToken, searchAttributes: null, memo: null }) } });

function fold(...events: historyv1.IHistoryEvent[]): SchedulerState {
  return foldSchedulerState(events);
}

const running = [{ workflowId: 'wf-old', runId: 'r0' }];

describe('scheduler state fold', () => {
  test('updates apply only with the current conflict token', () => {
    const other = schedule({ spec: { cronString: ['* * * * *'] } });
    const s = fold(started(schedule()), updated(T0 + S, other, 0), updated(T0 + 2 * S, schedule(), 0));
    assert.equal(s.conflictToken, 1);
    assert.deepEqual(s.schedule.spec?.cronString, ['* * * * *']);
    assert.equal(s.updateTimeMs, T0 + S);
  });

  test('pause and unpause carry their notes; trigger and backfill wait for the next pass', () => {
    const s = fold(
      started(schedule()),
      patched(T0 + S, { pause: 'maintenance' }),
      patched(T0 + 2 * S, { triggerImmediately: { overlapPolicy: O.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL } }),
      patched(T0 + 3 * S, { backfillRequest: [{ startTime: timestampFromMs(T0), endTime: timestampFromMs(T0 + 20 * S) }] }),
    );
    assert.equal(s.schedule.state?.paused, true);
    assert.equal(s.schedule.state?.notes, 'maintenance');
    assert.deepEqual(s.pending, [
      { kind: 'trigger', atMs: T0 + 2 * S, overlapPolicy: O.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL },
      { kind: 'backfill', startMs: T0, endMs: T0 + 20 * S, overlapPolicy: 0 },
    ]);
    const resumed = fold(started(schedule(), { pause: 'created paused' }), patched(T0 + S, { unpause: 'go' }));
    assert.equal(resumed.schedule.state?.paused, false);
    assert.equal(resumed.schedule.state?.notes, 'go');
  });

  test('a bookkeeping marker replaces the bookkeeping and consumes earlier requests; timers are tracked', () => {
    const base = fold(started(schedule()), patched(T0 + S, { triggerImmediately: {} }));
    const p = plan('s', base, every10s, [], T0 + 15 * S);
    const s = fold(
      started(schedule()),
      patched(T0 + S, { triggerImmediately: {} }),
      ev(ET.EVENT_TYPE_MARKER_RECORDED, T0 + 15 * S, { markerRecordedEventAttributes: { markerName: BOOKKEEPING_MARKER, details: encodeBookkeeping(p.book) } }),
      ev(ET.EVENT_TYPE_TIMER_STARTED, T0 + 15 * S, { timerStartedEventAttributes: { timerId: 'w1', startToFireTimeout: durationFromMs(5 * S) } }),
    );
    assert.deepEqual(s.pending, []);
    assert.equal(s.lastProcessedMs, T0 + 10 * S);
    assert.deepEqual(s.timer, { timerId: 'w1', fireAtMs: T0 + 20 * S });
    const fired = fold(
      started(schedule()),
      ev(ET.EVENT_TYPE_TIMER_STARTED, T0, { timerStartedEventAttributes: { timerId: 'w1', startToFireTimeout: durationFromMs(5 * S) } }),
      ev(ET.EVENT_TYPE_TIMER_FIRED, T0 + 5 * S, { timerFiredEventAttributes: { timerId: 'w1' } }),
    );
    assert.equal(fired.timer, null);
  });
});

test('a run continued as new starts from the state its previous run carried', () => {
  const before = fold(started(schedule()), updated(T0 + S, schedule(), 0));
  const book = plan('s', before, every10s, [], T0 + 10 * S).book;
  const carried = { bookkeeping: book, conflictToken: before.conflictToken, updateTimeMs: before.updateTimeMs };
  const input = encodeStartArgs({ schedule: before.schedule, initialPatch: null, createTimeMs: T0, carried });
  const s = fold(ev(ET.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, T0 + 11 * S, { workflowExecutionStartedEventAttributes: { input } }));
  assert.equal(s.conflictToken, 1);
  assert.equal(s.updateTimeMs, T0 + S);
  assert.equal(s.createTimeMs, T0);
  assert.deepEqual(bookkeepingOf(s), book);
});

test('an update asks for search attributes and memo until a pass writes them; the fold follows the upserts', () => {
  const json = (v: unknown) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) });
  const sa = { indexedFields: { Owner: json('ops') } };
  const asked = fold(
    started(schedule()),
    ev(ET.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, T0 + S, {
      workflowExecutionSignaledEventAttributes: { signalName: SIGNAL_UPDATE, input: encodeUpdateArgs({ schedule: schedule(), conflictToken: 0, searchAttributes: sa, memo: { fields: { team: json('a') } } }) },
    }),
  );
  assert.deepEqual(Object.keys(asked.requestedSearchAttributes?.indexedFields ?? {}), ['Owner']);
  const written = fold(
    started(schedule()),
    ev(ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, T0 + S, { upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { Owner: json('ops'), TemporalSchedulePaused: json(true) } } } }),
    ev(ET.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, T0 + 2 * S, { upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { Owner: json(null) } } } }),
    ev(ET.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, T0 + 2 * S, { workflowPropertiesModifiedEventAttributes: { upsertedMemo: { fields: { team: json('a') } } } }),
  );
  assert.deepEqual(Object.keys(written.searchAttributes?.indexedFields ?? {}), ['TemporalSchedulePaused']);
  assert.equal(written.pausedIndexed, true);
  assert.deepEqual(Object.keys(written.memo?.fields ?? {}), ['team']);
});

describe('scheduler decisions', () => {
  test('a due time starts one run named by its nominal time; the decision is the same when taken again', () => {
    const s = fold(started(schedule()));
    const a = plan('s', s, every10s, [], T0 + 10 * S + 300);
    const b = plan('s', s, every10s, [], T0 + 10 * S + 900);
    assert.equal(a.starts.length, 1);
    assert.equal(a.starts[0]!.workflowId, 'wf-2026-12-03T07:40:10Z');
    assert.equal(a.starts[0]!.requestId, b.starts[0]!.requestId);
    assert.equal(actionWorkflowId('wf', T0 + 1500), 'wf-2026-12-03T07:40:01Z');
    recordStarted(a.book, a.starts[0]!, { workflowId: a.starts[0]!.workflowId, runId: 'r1' }, T0 + 10 * S + 400);
    assert.equal(a.book.actionCount, 1);
    assert.deepEqual(a.book.running, [{ workflowId: 'wf-2026-12-03T07:40:10Z', runId: 'r1' }]);
    assert.equal(a.book.recent[0]!.scheduleMs, T0 + 10 * S);
  });

  test('SKIP: times that come while an action runs are skipped, and catching up starts one', () => {
    const s = fold(started(schedule()));
    const busy = plan('s', s, every10s, running, T0 + 10 * S);
    assert.equal(busy.starts.length, 0);
    assert.equal(busy.book.overlapSkipped, 1);
    const behind = plan('s', s, every10s, [], T0 + 30 * S);
    assert.equal(behind.starts.length, 1);
    assert.equal(behind.book.overlapSkipped, 2);
  });

  test('a closed action hands its result or failure to the next start; pause on failure pauses before the next scheduled start', () => {
    const WS = enums.WorkflowExecutionStatus;
    const result = { payloads: [{ data: Buffer.from('"done"') }] };
    const failure = { message: 'boom' };
    const s = fold(started(schedule()));
    const done = plan('s', s, every10s, [], T0 + 10 * S, [{ ...running[0]!, status: WS.WORKFLOW_EXECUTION_STATUS_COMPLETED, result }]);
    assert.equal(Buffer.from(decodePayloads(done.book.lastCompletionResult!).payloads[0]!.data!).toString(), '"done"');
    assert.equal(done.pause, undefined);
    assert.equal(done.starts.length, 1);
    const failed = plan('s', { ...s, ...done.book }, every10s, [], T0 + 10 * S, [{ ...running[0]!, status: WS.WORKFLOW_EXECUTION_STATUS_FAILED, failure }]);
    assert.equal(decodeFailure(failed.book.continuedFailure!).message, 'boom');
    assert.ok(failed.book.lastCompletionResult, 'the last result stays beside the failure');
    assert.equal(failed.pause, undefined, 'no pause without the policy');
    const pausing = fold(started(schedule({ policies: { pauseOnFailure: true } })));
    const timedOut = plan('s', pausing, every10s, [], T0 + 10 * S, [{ ...running[0]!, status: WS.WORKFLOW_EXECUTION_STATUS_TIMED_OUT }]);
    assert.equal(timedOut.pause, 'paused due to workflow failure: wf-old: TimedOut');
    assert.equal(timedOut.starts.length, 0, 'the due time is passed over: the schedule is paused from this pass');
    const terminated = plan('s', pausing, every10s, [], T0 + 10 * S, [{ ...running[0]!, status: WS.WORKFLOW_EXECUTION_STATUS_TERMINATED }]);
    assert.equal(terminated.pause, undefined, 'only a failure or a timeout pauses');
  });

  test('ALLOW_ALL starts every time, untracked', () => {
    const s = fold(started(schedule({}, O.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL)));
    const p = plan('s', s, every10s, running, T0 + 30 * S);
    assert.deepEqual(p.starts.map((x) => x.start.nominalMs), [T0 + 10 * S, T0 + 20 * S, T0 + 30 * S]);
    assert.ok(p.starts.every((x) => !x.tracked));
  });

  test('BUFFER_ONE keeps one and skips the rest; BUFFER_ALL keeps all and polls the running one', () => {
    const one = plan('s', fold(started(schedule({}, O.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE))), every10s, running, T0 + 30 * S);
    assert.equal(one.starts.length, 0);
    assert.equal(one.book.buffered.length, 1);
    assert.equal(one.book.overlapSkipped, 2);
    const allState = fold(started(schedule({}, O.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL)));
    const all = plan('s', allState, every10s, running, T0 + 30 * S);
    assert.equal(all.book.buffered.length, 3);
    assert.equal(wakeAtMs(allState, every10s, all.book, T0 + 30 * S, false), T0 + 30 * S + WATCH_POLL_MS);
    // The running one closed: the first buffered start goes, the others keep waiting on it.
    const next = plan('s', { ...allState, ...all.book }, every10s, [], T0 + 31 * S);
    assert.deepEqual(next.starts.map((x) => x.start.nominalMs), [T0 + 10 * S]);
    assert.equal(next.book.buffered.length, 2);
  });

  test('CANCEL_OTHER and TERMINATE_OTHER stop the running action and buffer the new start', () => {
    const c = plan('s', fold(started(schedule({}, O.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER))), every10s, running, T0 + 10 * S);
    assert.deepEqual(c.cancel, running);
    assert.deepEqual(c.terminate, []);
    assert.equal(c.book.buffered.length, 1);
    const t = plan('s', fold(started(schedule({}, O.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER))), every10s, running, T0 + 10 * S);
    assert.deepEqual(t.terminate, running);
    assert.deepEqual(t.cancel, []);
  });

  test('times older than the catch-up window are counted missed', () => {
    const s = fold(started(schedule({ policies: { catchupWindow: durationFromMs(15 * S) } })));
    const p = plan('s', s, every10s, [], T0 + 40 * S);
    assert.equal(p.book.missedCatchupWindow, 2);
    assert.equal(p.starts[0]!.start.nominalMs, T0 + 30 * S);
    assert.equal(p.book.overlapSkipped, 1);
  });

  test('limited actions: the last one is taken, then the schedule stops', () => {
    const s = fold(started(schedule({ state: { limitedActions: true, remainingActions: 1 as never } })));
    const p = plan('s', s, every10s, [], T0 + 10 * S);
    assert.equal(p.starts.length, 1);
    assert.equal(p.book.remainingActions, 0);
    const after = { ...s, ...p.book };
    assert.equal(plan('s', after, every10s, [], T0 + 20 * S).starts.length, 0);
    assert.equal(wakeAtMs(after, every10s, p.book, T0 + 10 * S, false), null);
    assert.deepEqual(futureActionTimes(after, every10s, T0 + 10 * S, 5), []);
    startFailed(s, p.book, p.starts[0]!);
    assert.equal(p.book.remainingActions, 1);
    assert.equal(p.book.buffered.length, 1);
  });

  test('paused: no scheduled action, the paused time is passed over, a trigger still starts', () => {
    const s = fold(started(schedule()), patched(T0 + S, { pause: 'p' }), patched(T0 + 2 * S, { triggerImmediately: {} }));
    const p = plan('s', s, every10s, [], T0 + 30 * S);
    assert.deepEqual(p.starts.map((x) => [x.start.nominalMs, x.start.manual]), [[T0 + 2 * S, true]]);
    assert.equal(p.book.lastProcessedMs, T0 + 30 * S);
    assert.equal(wakeAtMs(s, every10s, p.book, T0 + 30 * S, false), null);
    const resumed = { ...fold(started(schedule())), ...p.book, pending: [] };
    assert.equal(plan('s', resumed, every10s, [], T0 + 31 * S).starts.length, 0);
  });

  test('backfill starts each time of its range, its start inclusive, under its own overlap policy', () => {
    const s = fold(
      started(schedule()),
      patched(T0 + S, {
        backfillRequest: [{ startTime: timestampFromMs(T0 - 20 * S), endTime: timestampFromMs(T0), overlapPolicy: O.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL }],
      }),
    );
    const p = plan('s', s, every10s, running, T0 + 2 * S);
    assert.deepEqual(p.starts.map((x) => x.workflowId), ['wf-2026-12-03T07:39:40Z', 'wf-2026-12-03T07:39:50Z', 'wf-2026-12-03T07:40:00Z']);
    assert.ok(p.starts.every((x) => x.start.manual));
  });

  test('times before an update belong to the old schedule', () => {
    const s = fold(started(schedule()), updated(T0 + 25 * S, schedule(), 0));
    const p = plan('s', s, every10s, [], T0 + 30 * S);
    assert.deepEqual(p.starts.map((x) => x.start.nominalMs), [T0 + 30 * S]);
  });
});
