import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { combineLag, ReceiverLag } from './receiver-lag.js';

const HB = 1_000;
const task = (namespaceId: string) => ({ namespaceId });
const heartbeat = (sentTimeMs: number) => ({ tasks: [], sentTimeMs: BigInt(sentTimeMs) });

describe('ReceiverLag', () => {
  test('a receiver that never saw its source caught up is unknown, not 0', () => {
    const lag = new ReceiverLag();
    assert.deepEqual(lag.measure('ns', 10_000, HB), { tasks: 0n, seconds: 0, shards: 1, shardsUnknown: 1, shardsDisconnected: 1 });
    lag.heard({ tasks: [task('ns')] }, 10_000);
    assert.equal(lag.measure('ns', 10_000, HB).shardsUnknown, 1, 'heard, but never caught up');
  });

  test('idle and heard: the window is one heartbeat after the last word', () => {
    const lag = new ReceiverLag();
    lag.heard(heartbeat(10_000), 10_005);
    lag.caughtUp(heartbeat(10_000), 10_005);
    // Caught up as of the source's read (earlier than our receive time); the window ends a heartbeat after the last word.
    assert.deepEqual(lag.measure('ns', 10_500, HB), { tasks: 0n, seconds: 1.005, shards: 1, shardsUnknown: 0, shardsDisconnected: 0 });
  });

  test('a source clock ahead of ours does not move the window start past our receive time', () => {
    const lag = new ReceiverLag();
    lag.heard(heartbeat(20_000), 10_000);
    lag.caughtUp(heartbeat(20_000), 10_000);
    assert.equal(lag.measure('ns', 10_000, HB).seconds, 1);
  });

  test('silent for longer than a heartbeat: the window runs to the measure', () => {
    const lag = new ReceiverLag();
    lag.heard(heartbeat(10_000), 10_000);
    lag.caughtUp(heartbeat(10_000), 10_000);
    lag.disconnected();
    assert.deepEqual(lag.measure('ns', 14_000, HB), { tasks: 0n, seconds: 4, shards: 1, shardsUnknown: 0, shardsDisconnected: 1 });
  });

  test('a backlog: batches keep arriving but the window starts where the shard was last caught up', () => {
    const lag = new ReceiverLag();
    lag.heard(heartbeat(10_000), 10_000);
    lag.caughtUp(heartbeat(10_000), 10_000);
    const batch = { tasks: [task('ns'), task('ns'), task('other')], sentTimeMs: 13_000n };
    lag.heard(batch, 13_000);
    assert.deepEqual(lag.measure('ns', 13_200, HB), { tasks: 2n, seconds: 4, shards: 1, shardsUnknown: 0, shardsDisconnected: 0 });
    assert.equal(lag.measure('other', 13_200, HB).tasks, 1n, 'pending counts are per namespace');
    lag.settled(batch.tasks.slice(0, 2));
    assert.equal(lag.measure('ns', 13_200, HB).tasks, 0n);
    lag.settled(batch.tasks.slice(2));
    lag.caughtUp(batch, 13_000);
    assert.equal(lag.measure('ns', 13_200, HB).seconds, 1, 'caught up again as of the batch that reached the end of the queue');
  });
});

describe('combineLag', () => {
  const part = (tasks: bigint, seconds: number, shardsUnknown = 0) => ({ tasks, seconds, shards: 1, shardsUnknown, shardsDisconnected: 0 });

  test('sums tasks, keeps the worst window, counts shards', () => {
    assert.deepEqual(combineLag([part(2n, 1.5), part(3n, 4), part(0n, 0, 1)]), { tasks: 5n, seconds: 4, shards: 3, shardsUnknown: 1, shardsDisconnected: 0 });
  });

  test('with numShards, a shard nobody answered for is unknown', () => {
    assert.deepEqual(combineLag([part(1n, 1)], 4), { tasks: 1n, seconds: 1, shards: 4, shardsUnknown: 3, shardsDisconnected: 0 });
    assert.deepEqual(combineLag([], 2), { tasks: 0n, seconds: 0, shards: 2, shardsUnknown: 2, shardsDisconnected: 0 });
  });
});
