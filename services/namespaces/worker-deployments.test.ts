import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import {
  checkConflictToken,
  conflictToken,
  deleteDeployment,
  deleteVersion,
  registerVersion,
  setCurrent,
  setRamping,
  taskQueueRouting,
  versionStatus,
  type WorkerDeployments,
} from './worker-deployments.js';

const wf = { name: 'orders', type: 1 };
const act = { name: 'orders', type: 2 };

function demo(): WorkerDeployments {
  let all: WorkerDeployments = {};
  for (const b of ['v1', 'v2']) for (const q of [wf, act]) all = registerVersion(all, 'demo', b, q, 1_000);
  return all;
}

const change = (buildId: string, nowMs = 2_000) => ({ buildId, identity: 'ops', nowMs });

describe('worker deployments', () => {
  test('a poller registers its version and task queue once', () => {
    const all = demo();
    assert.deepEqual(Object.keys(all.demo!.versions), ['v1', 'v2']);
    assert.deepEqual(all.demo!.versions.v1!.taskQueues, [wf, act]);
    assert.equal(registerVersion(all, 'demo', 'v1', wf, 5_000), all, 'known: no change, no write');
  });

  test('moving the current version drains the old one and routes the task queue to the new one', () => {
    let dep = setCurrent(demo().demo!, change('v1'));
    assert.equal(versionStatus(dep, 'v1'), 2);
    assert.equal(versionStatus(dep, 'v2'), 1);
    dep = setCurrent(dep, change('v2', 3_000));
    assert.equal(versionStatus(dep, 'v1'), 4, 'the former current version drains');
    assert.equal(dep.versions.v1!.lastDeactivationMs, 3_000);
    assert.equal(dep.revision, 2);
    assert.deepEqual(taskQueueRouting({ demo: dep }, 'orders')?.current, { deploymentName: 'demo', buildId: 'v2' });
    assert.equal(taskQueueRouting({ demo: dep }, 'other'), null);
  });

  test('ramping: a percentage within 0-100, never the current version; promoting it ends the ramp', () => {
    let dep = setCurrent(demo().demo!, change('v1'));
    assert.throws(() => setRamping(dep, { ...change('v2'), percentage: 101 }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => setRamping(dep, { ...change('v1'), percentage: 10 }), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
    dep = setRamping(dep, { ...change('v2'), percentage: 25 });
    const routing = taskQueueRouting({ demo: dep }, 'orders')!;
    assert.deepEqual([routing.ramping?.buildId, routing.rampPercentage], ['v2', 25]);
    assert.equal(versionStatus(dep, 'v2'), 3);
    dep = setCurrent(dep, change('v2'));
    assert.deepEqual([dep.currentBuildId, dep.rampingBuildId, dep.rampPercentage], ['v2', '', 0]);
  });

  test('an unknown version cannot become current; unversioned ("") can', () => {
    const dep = demo().demo!;
    assert.throws(() => setCurrent(dep, change('v9')), (e) => isTandemError(e, 'NOT_FOUND'));
    const back = setCurrent(setCurrent(dep, change('v1')), change(''));
    assert.equal(taskQueueRouting({ demo: back }, 'orders')?.current, null);
    assert.deepEqual(Object.keys(back.versions).sort(), Object.keys(dep.versions).sort(), 'no version is made up for ""');
  });

  test('the conflict token is the routing revision', () => {
    const dep = demo().demo!;
    const token = conflictToken(dep);
    const moved = setCurrent(dep, change('v1'));
    checkConflictToken(moved, conflictToken(moved));
    checkConflictToken(moved, null);
    assert.throws(() => checkConflictToken(moved, token), (e) => isTandemError(e, 'FAILED_PRECONDITION'));
  });

  test('a current or ramping version is not deleted; another one is', () => {
    const dep = setRamping(setCurrent(demo().demo!, change('v1')), { ...change('v2'), percentage: 5 });
    assert.throws(() => deleteVersion(dep, 'v1'), (e) => isTandemError(e, 'FAILED_PRECONDITION'));
    assert.throws(() => deleteVersion(dep, 'v2'), (e) => isTandemError(e, 'FAILED_PRECONDITION'));
    const idle = setRamping(dep, { ...change(''), percentage: 0 });
    assert.deepEqual(Object.keys(deleteVersion(idle, 'v2').versions), ['v1']);
    assert.throws(() => deleteDeployment({ demo: idle }, 'demo'), (e) => isTandemError(e, 'FAILED_PRECONDITION'), 'versions left');
    assert.deepEqual(deleteDeployment({ demo: { ...idle, versions: {} } }, 'demo'), {});
  });
});
