// The profile summary: self time per frame and module from a hand-made profile, idle left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moduleOf, summarize, type CpuProfile } from './profile-top.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

test('self time goes to the sampled frame, per module, idle and samples outside the window left out', () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(idle)') },
      { id: 2, callFrame: frame('encode', 'file:///repo/node_modules/protobufjs/src/writer.js') },
      { id: 3, callFrame: frame('persist', 'file:///repo/services/history/shard-queues.ts') },
    ],
    startTime: 0,
    // A sample's time is the delta to the next sample: 2 (1 ms), 3 (2 ms), 1 (3 ms), 2 (4 ms), 3 (last: none).
    samples: [2, 3, 1, 2, 3],
    timeDeltas: [0, 1000, 2000, 3000, 4000],
  };
  const all = summarize(profile);
  assert.equal(all.busyMs, 7);
  assert.deepEqual(all.frames.map((f) => [f.module, f.selfMs]), [['protobufjs', 5], ['services/history', 2]]);
  assert.deepEqual(all.timeline, [0.007]);
  const late = summarize(profile, { sinceMs: 2 });
  assert.equal(late.busyMs, 4);
  assert.deepEqual(late.modules[0], { module: 'protobufjs', selfMs: 4 });
});

test('a module is a package, a folder of the repository, node itself, or a pseudo-frame', () => {
  assert.equal(moduleOf('file:///r/node_modules/@grpc/grpc-js/build/src/client.js', 'f'), '@grpc/grpc-js');
  assert.equal(moduleOf('file:///r/replication/sender.ts', 'f'), 'replication');
  assert.equal(moduleOf('node:internal/http2/core', 'f'), 'node:internal');
  assert.equal(moduleOf('', '(garbage collector)'), '(garbage collector)');
});
