import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enums } from '../common/temporal.js';
import { completedVersioning, foldCompleted, overrideFromProto, overrideToProto, pinnedVersion, versioningSearchAttributes } from './versioning.js';

const PINNED = enums.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED;
const AUTO_UPGRADE = enums.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE;
const VERSIONED = enums.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED;
const v1 = { deploymentName: 'demo', buildId: 'v1' };
const v2 = { deploymentName: 'demo', buildId: 'v2' };

describe('a run\'s versioning', () => {
  test('a versioned worker\'s completion is recorded and folded; an unversioned one clears it', () => {
    const attrs = completedVersioning({ versioningBehavior: PINNED, deploymentOptions: { ...v1, workerVersioningMode: VERSIONED } });
    const folded = foldCompleted(undefined, attrs, 4);
    assert.deepEqual(folded, { behavior: PINNED, version: v1, sinceEventId: 4 });
    assert.equal(foldCompleted(folded, attrs, 9), folded, 'unchanged: still since event 4 (no new visibility record)');
    assert.deepEqual(completedVersioning({ versioningBehavior: PINNED, deploymentOptions: { ...v1, workerVersioningMode: 1 } }), {});
    assert.equal(foldCompleted(folded, {}, 9), undefined);
  });

  test('pinned behavior pins to the worker\'s version; an override wins over it', () => {
    assert.deepEqual(pinnedVersion({ versioning: { behavior: PINNED, version: v1, sinceEventId: 4 } }), v1);
    assert.equal(pinnedVersion({ versioning: { behavior: AUTO_UPGRADE, version: v1, sinceEventId: 4 } }), undefined);
    assert.deepEqual(pinnedVersion({ versioning: { behavior: AUTO_UPGRADE, version: v1, sinceEventId: 4 }, versioningOverride: { pinned: v2 } }), v2);
    assert.equal(pinnedVersion({ versioning: { behavior: PINNED, version: v1, sinceEventId: 4 }, versioningOverride: { autoUpgrade: true } }), undefined);
  });

  test('overrides as the TS client sends them survive the round trip', () => {
    const pinned = overrideFromProto({ pinned: { version: v2, behavior: 1 }, behavior: PINNED, pinnedVersion: 'demo.v2' });
    assert.deepEqual(pinned, { pinned: v2 });
    assert.deepEqual(overrideFromProto(overrideToProto(pinned)), pinned);
    assert.deepEqual(overrideFromProto({ autoUpgrade: true, behavior: AUTO_UPGRADE }), { autoUpgrade: true });
    assert.deepEqual(overrideFromProto({ pinnedVersion: 'demo.v1' }), { pinned: v1 }, 'the deprecated string form');
  });

  test('visibility gets the deployment, the version and the behavior', () => {
    assert.deepEqual(versioningSearchAttributes({ versioning: { behavior: PINNED, version: v1, sinceEventId: 4 } }), {
      TemporalWorkerDeployment: { type: 'Keyword', value: 'demo' },
      TemporalWorkerDeploymentVersion: { type: 'Keyword', value: 'demo:v1' },
      TemporalWorkflowVersioningBehavior: { type: 'Keyword', value: 'Pinned' },
    });
    assert.deepEqual(versioningSearchAttributes({}), {});
  });
});
