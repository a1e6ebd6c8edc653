// Group commit: the first item goes alone, the ones submitted meanwhile together; failures of a
// whole write and of single items reach the right callers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from './group-commit.js';

/** A write the test finishes by hand, recording each batch. */
function manualWrites() {
  const batches: number[][] = [];
  const finishers: ((failures?: unknown[]) => void)[] = [];
  const failers: ((err: unknown) => void)[] = [];
  const write = (items: number[]) =>
    new Promise<readonly unknown[] | void>((resolve, reject) => {
      batches.push(items);
      finishers.push(resolve);
      failers.push(reject);
    });
  return { batches, write, finish: (i: number, failures?: unknown[]) => finishers[i]!(failures), fail: (i: number, err: unknown) => failers[i]!(err) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('items submitted while a write is in flight go together in the next one, at most maxBatch each', async () => {
  const w = manualWrites();
  const g = new GroupCommit(w.write, 3);
  const first = g.submit(1);
  const rest = [2, 3, 4, 5].map((n) => g.submit(n));
  await tick();
  assert.deepEqual(w.batches, [[1]]);
  assert.equal(g.busy, true);
  w.finish(0);
  await first;
  await tick();
  assert.deepEqual(w.batches, [[1], [2, 3, 4]]);
  w.finish(1);
  await tick();
  w.finish(2);
  await Promise.all(rest);
  assert.deepEqual(w.batches, [[1], [2, 3, 4], [5]]);
  assert.equal(g.busy, false);
});

test('a failed write fails its items only; an item failure fails that item only', async () => {
  const w = manualWrites();
  const g = new GroupCommit(w.write, 10);
  const a = g.submit(1);
  const [b, c] = [g.submit(2), g.submit(3)];
  await tick();
  w.fail(0, new Error('store down'));
  await assert.rejects(a, /store down/);
  await tick();
  w.finish(1, [undefined, new Error('bad item')]);
  await b;
  await assert.rejects(c, /bad item/);
  assert.equal(g.busy, false);
});
