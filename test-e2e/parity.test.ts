// Issue 14 ("parity with the reference server") end to end: the official TypeScript client and
// worker against a real `tandem dev` process run the scenarios of `parity-scenarios.ts`, and what
// Tandem writes (histories, event by event) and answers (responses, status codes) must equal what
// the reference server did for the same scenarios (test-e2e/fixtures/reference-parity.json,
// recorded from `temporal server start-dev` by `record-reference.ts`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import * as activities from './parity-activities.js';
import { clientConnection, StoreFixture, storesUnderTest, TandemProcess, tearDown, testReplay, workerConnection, workflowBundle, type RunningWorker } from './harness.js';
import { scenarios, type ScenarioEnv, type ScenarioName, type ScenarioResult } from './parity-scenarios.js';
import { referenceFixture } from './record-reference.js';

const TEST_TIMEOUT_MS = 60_000;
const reference = JSON.parse(fs.readFileSync(referenceFixture, 'utf8')) as { serverVersion: string; scenarios: Record<ScenarioName, ScenarioResult> };

/** What the workflows logged at WARN and above: the SDK's unfinished-handler warnings land here. */
const warnings: string[] = [];
Runtime.install({ logger: new DefaultLogger('WARN', (entry) => void warnings.push(entry.message)) });

/** Where two normalized values differ, as `path: tandem value != reference value` lines. */
function differences(actual: unknown, expected: unknown, path = ''): string[] {
  if (actual !== null && expected !== null && typeof actual === 'object' && typeof expected === 'object') {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    return [...keys].flatMap((k) => differences((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(actual) === JSON.stringify(expected) ? [] : [`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`];
}

/** Event types first, then every field of every event, so a failure lists all that differs. */
function assertSameHistory(actual: Record<string, unknown>[], expected: Record<string, unknown>[]): void {
  assert.deepEqual(
    actual.map((e) => e.eventType),
    expected.map((e) => e.eventType),
  );
  assert.deepEqual(
    actual.flatMap((e, i) => differences(e, expected[i]).map((d) => `event ${i + 1} ${String(e.eventType).replace('EVENT_TYPE_', '')} ${d}`)),
    [],
  );
}

/** A scenario's answers, call by call, and its history are the reference's. */
function assertLikeReference(name: ScenarioName, run: ScenarioResult): void {
  assert.deepEqual(run.calls, reference.scenarios[name].calls);
  assertSameHistory(run.history, reference.scenarios[name].history);
}

const bundle = workflowBundle();

for (const kind of storesUnderTest()) {
  describe(`parity with the reference server ${reference.serverVersion} on ${kind}`, () => {
    let store: StoreFixture | undefined;
    let server: TandemProcess | undefined;
    let connection: Connection | undefined;
    let native: NativeConnection | undefined;
    let worker: RunningWorker | undefined;
    let env: ScenarioEnv;

    before(async () => {
      store = await StoreFixture.create(kind);
      server = await TandemProcess.start(store);
      connection = await clientConnection(server.address);
      native = await workerConnection(server.address);
      const taskQueue = `parity-${randomUUID()}`;
      const w = await Worker.create({ connection: native, taskQueue, workflowBundle: await bundle, activities, shutdownGraceTime: '1s' });
      worker = { worker: w, running: w.run() };
      env = { client: new Client({ connection }), workerClient: new Client({ connection: native }), taskQueue };
    });

    after(async () => {
      await tearDown({ workers: worker ? [worker] : [], native, connection, server, store });
    });

    test('GetSystemInfo advertises the sdkMetadata capability', async () => {
      const info = await env.client.workflowService.getSystemInfo({});
      assert.equal(info.capabilities?.sdkMetadata, true);
    });

    test('a cancelled timer: WorkflowTaskCompleted events carry the SDK metadata and the history replays', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.cancelledTimer(env);
      assertSameHistory(run.history, reference.scenarios.cancelledTimer.history);
      const history = await env.client.workflow.getHandle(run.workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await bundle, replayName: 'parity' }, history, run.workflowId);
    });

    test('an update and a signal to a completed run answer as the reference does', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.afterCompletion(env);
      assertLikeReference('afterCompletion', run);
    });

    test('a run that completes under an accepted update fails the update as its outcome; the SDK warns', { timeout: TEST_TIMEOUT_MS }, async () => {
      warnings.length = 0;
      const run = await scenarios.unfinishedUpdate(env);
      assertLikeReference('unfinishedUpdate', run);
      assert.ok(warnings.some((m) => m.includes('[TMPRL1102] Workflow finished while an update handler was still running')), warnings.join('\n'));
    });

    test('a run closed while an update waits for its first delivery: the close stands, the update is aborted as the reference words it', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.closeUnderPendingUpdate(env);
      assertLikeReference('closeUnderPendingUpdate', run);
    });

    test('a run that completes under a running signal handler: the SDK warns, the history is the reference one', { timeout: TEST_TIMEOUT_MS }, async () => {
      warnings.length = 0;
      const run = await scenarios.unfinishedSignal(env);
      assertSameHistory(run.history, reference.scenarios.unfinishedSignal.history);
      assert.ok(warnings.some((m) => m.includes('[TMPRL1102] Workflow finished while a signal handler was still running')), warnings.join('\n'));
    });

    for (const name of ['activityRetryStates', 'workflowNonRetryable', 'workflowMaximumAttempts', 'workflowNoRetryPolicy', 'workflowTimedOut', 'childRetryState'] as const) {
      test(`retry states: ${name} writes the reference's history`, { timeout: TEST_TIMEOUT_MS }, async () => {
        assertSameHistory((await scenarios[name](env)).history, reference.scenarios[name].history);
      });
    }

    test('a history past 4 MiB: the next WorkflowTaskStarted suggests continue-as-new, as the reference does', { timeout: TEST_TIMEOUT_MS }, async () => {
      assertSameHistory((await scenarios.suggestContinueAsNew(env)).history, reference.scenarios.suggestContinueAsNew.history);
    });

    test('user metadata: the summaries and details of the run, a timer, an activity and a child are in history and describe', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.userMetadata(env);
      assertLikeReference('userMetadata', run);
      const handle = env.client.workflow.getHandle(run.workflowId);
      const described = await handle.describe();
      assert.equal(await described.staticSummary(), 'parity summary', 'as the SDK reads it');
      assert.equal(await described.staticDetails(), 'parity **details**');
    });

    test('priorities and fairness keys: the run\'s, an activity\'s own, an inherited one and a child\'s are in history and describe', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.priorities(env);
      assertLikeReference('priorities', run);
    });

    test('UpdateActivityOptions: the merged options answered and described, restore_original, a refused mask, the retry it lets run', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.activityOptions(env);
      assertLikeReference('activityOptions', run);
    });

    test('eager activity dispatch: an activity started by the completion that scheduled it, then one polled, write the reference\'s history', { timeout: TEST_TIMEOUT_MS }, async () => {
      assertSameHistory((await scenarios.eagerActivities(env)).history, reference.scenarios.eagerActivities.history);
    });

    test('ResetWorkflowExecution to the first workflow task: the answer, and the new run\'s history with the later signals reapplied', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.reset(env);
      assertLikeReference('reset', run);
    });

    test('PauseActivity on a retry waiting out its backoff: the paused pending activity described, then UnpauseActivity lets it run', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.activityPause(env);
      assertLikeReference('activityPause', run);
    });

    test('eager workflow start: the official client on its worker\'s connection starts eagerly and writes the reference\'s history', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.eagerStart(env);
      assertLikeReference('eagerStart', run);
    });

    test('UpdateWorkflowExecutionOptions: a pinned versioning override answered, described and written, then unset', { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await scenarios.workflowOptions(env);
      assertLikeReference('workflowOptions', run);
    });

    testReplay(() => store!);
  });
}
