import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nextFailoverVersion, regionOfVersion, validateRegionConfig, type RegionConfig } from './failover.js';

describe('nextFailoverVersion', () => {
  test('moves to the smallest version >= current in the target residue class', () => {
    assert.equal(nextFailoverVersion(1n, 2n, 10n), 2n);
    assert.equal(nextFailoverVersion(2n, 1n, 10n), 11n);
    assert.equal(nextFailoverVersion(11n, 2n, 10n), 12n);
    assert.equal(nextFailoverVersion(12n, 1n, 10n), 21n);
    assert.equal(nextFailoverVersion(0n, 0n, 10n), 0n);
    assert.equal(nextFailoverVersion(9n, 0n, 10n), 10n);
  });

  test('is the identity when the namespace already is in the target class', () => {
    assert.equal(nextFailoverVersion(21n, 1n, 10n), 21n);
  });

  test('works past 2^53', () => {
    const big = 2n ** 60n + 3n;
    const v = nextFailoverVersion(big, 7n, 100n);
    assert.ok(v >= big && v - big < 100n);
    assert.equal(v % 100n, 7n);
  });

  test('a round trip a -> b -> a only grows', () => {
    let v = 1n;
    for (let i = 0; i < 50; i++) {
      const next = nextFailoverVersion(v, i % 2 === 0 ? 2n : 1n, 10n);
      assert.ok(next > v);
      v = next;
    }
  });

  test('rejects a bad increment or initial version', () => {
    assert.throws(() => nextFailoverVersion(1n, 1n, 0n), RangeError);
    assert.throws(() => nextFailoverVersion(1n, 10n, 10n), RangeError);
    assert.throws(() => nextFailoverVersion(1n, -1n, 10n), RangeError);
    assert.throws(() => nextFailoverVersion(-1n, 1n, 10n), RangeError);
  });
});

test('regionOfVersion finds the writer by residue', () => {
  const regions: RegionConfig[] = [
    { name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n },
    { name: 'b', initialFailoverVersion: 2n, failoverVersionIncrement: 10n },
  ];
  assert.equal(regionOfVersion(21n, regions)?.name, 'a');
  assert.equal(regionOfVersion(32n, regions)?.name, 'b');
  assert.equal(regionOfVersion(33n, regions), undefined);
});

test('validateRegionConfig', () => {
  assert.throws(() => validateRegionConfig({ name: 'a', initialFailoverVersion: 10n, failoverVersionIncrement: 10n }));
  assert.throws(() => validateRegionConfig({ name: '', initialFailoverVersion: 1n, failoverVersionIncrement: 10n }));
  validateRegionConfig({ name: 'a', initialFailoverVersion: 1n, failoverVersionIncrement: 10n });
});
