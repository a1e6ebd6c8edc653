// Eager activity dispatch with the official SDK: the worker asks to run the activities a workflow
// task schedules on its own task queue (up to the slots it reserves, 3 per completion), and the
// completion's answer hands them back started. Matching's count of activity tasks added to the
// queue shows which went through it: none of those dispatched eagerly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { scrape } from '../deploy/processes/node-process.js';
import { parsePrometheusText, sumSamples } from '../deploy/processes/prom-text.js';
import { msFromTimestamp } from '../services/common/proto-time.js';
import * as activities from './activities.js';
import { storesUnderTest } from './harness.js';
import { workerSuite } from './worker-suite.js';

const NAMESPACE = 'default';
const TEST_TIMEOUT_MS = 60_000;

Runtime.install({ logger: new DefaultLogger('ERROR') });

for (const kind of storesUnderTest()) {
  describe(`eager activity dispatch on ${kind}`, () => {
    const taskQueue = `eager-activities-${randomUUID()}`;
    const suite = workerSuite(kind, { namespace: NAMESPACE, taskQueue, activities });

    /** Activity tasks matching was given for the test's queue, so far. */
    const throughMatching = async () => {
      const text = await scrape(suite.server.metricsUrl);
      assert.ok(text !== null, 'the server serves /metrics');
      return sumSamples(parsePrometheusText(text), 'tandem_matching_tasks_added_total', { task_queue: taskQueue, task_type: 'activity' });
    };
    const greet = (names: string[], allowEagerDispatch: boolean) =>
      suite.client.workflow.start('parallelGreetings', { taskQueue, workflowId: `eager-${randomUUID()}`, args: [names, allowEagerDispatch] });

    test('the activities a completion asks for come back started in its answer: matching never sees them', { timeout: TEST_TIMEOUT_MS }, async () => {
      const h = await greet(['a', 'b', 'c'], true);
      assert.deepEqual(await h.result(), ['hello a', 'hello b', 'hello c']);
      assert.equal(await throughMatching(), 0, 'no activity task reached matching');
      const history = (await h.fetchHistory()).events!;
      const completed = history.find((e) => e.workflowTaskCompletedEventAttributes)!;
      const started = history.filter((e) => e.activityTaskStartedEventAttributes);
      assert.equal(started.length, 3);
      for (const e of started) {
        const a = e.activityTaskStartedEventAttributes!;
        assert.equal(a.attempt, 1);
        assert.equal(a.identity, completed.workflowTaskCompletedEventAttributes!.identity, 'started by the worker that completed the workflow task');
        assert.equal(msFromTimestamp(e.eventTime), msFromTimestamp(completed.eventTime), 'started by the completion itself');
      }
    });

    test('beyond the slots the worker reserves, or when the workflow says not to, activities go through matching', { timeout: TEST_TIMEOUT_MS }, async () => {
      const before = await throughMatching();
      const four = await greet(['a', 'b', 'c', 'd'], true);
      assert.equal((await four.result()).length, 4);
      assert.equal(await throughMatching(), before + 1, 'three ran eagerly, the fourth was polled');
      const refused = await greet(['e'], false);
      assert.deepEqual(await refused.result(), ['hello e']);
      assert.equal(await throughMatching(), before + 2);
    });
  });
}
