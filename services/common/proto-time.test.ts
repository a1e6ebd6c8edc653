import { test } from 'node:test';
import assert from 'node:assert/strict';
import Long from 'long';
import { toBigInt, toLong } from './proto-time.js';

test('int64 ids survive bigint -> Long -> bigint exactly, at the edges and above 2^53', () => {
  const values = [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 123456789n * 2n ** 20n + 7n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 40n) - 3n];
  for (const v of values) {
    const long = toLong(v);
    assert.equal(long.toString(), v.toString());
    assert.equal(toBigInt(long), v);
  }
});

test('an unsigned Long reads as its unsigned value', () => {
  assert.equal(toBigInt(Long.fromString('18446744073709551615', true)), 2n ** 64n - 1n);
  assert.equal(toBigInt(Long.fromString('9223372036854775808', true)), 2n ** 63n);
});
