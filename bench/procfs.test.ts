// The /proc readers: the parsers on fixed text, the live readers on this process (Linux only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listeningInodes, parseMachineStat, parseProcessStat, pidListeningOn, processUsage } from './procfs.js';

const linux = process.platform === 'linux';

test('a process stat line is read from after the last parenthesis, whatever the command name holds', () => {
  // Fields 14 (utime) 432, 15 (stime) 45, 24 (rss) 57575; the name has a space and a ')'.
  const line = '7587 (node (x) y) S 1 7581 3558 0 -1 4194304 191925 0 7 0 432 45 0 0 20 0 12 0 207719 23493861376 57575 18446744073709551615 11988992';
  assert.deepEqual(parseProcessStat(line), { cpuTicks: 477, rssPages: 57575 });
  assert.throws(() => parseProcessStat('garbage'), /not a \/proc\/<pid>\/stat line/);
});

test('the machine line counts everything but idle and iowait as busy', () => {
  const text = 'cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\nintr 1\n';
  assert.deepEqual(parseMachineStat(text), { busyTicks: 161, totalTicks: 1181 });
});

test('listening sockets are found by port in a /proc/net/tcp table; connected ones are not', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:4AC6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 14833 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:4AC6 0100007F:9FEC 01 00000000:00000000 00:00000000 00000000     0        0 14900 1 0000000000000000 20 4 30 10 -1',
    '   2: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1077 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.deepEqual(listeningInodes(table, 0x4ac6), ['14833']);
  assert.deepEqual(listeningInodes(table, 1), []);
});

test('this process: its CPU time and memory, and the port it listens on', { skip: !linux }, async () => {
  const usage = processUsage(process.pid)!;
  assert.ok(usage.cpuSeconds > 0 && usage.rssBytes > 0, JSON.stringify(usage));
  assert.equal(processUsage(2 ** 22 + 1), null, 'a pid above the kernel limit is never alive');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    assert.equal(pidListeningOn((srv.address() as net.AddressInfo).port), process.pid);
  } finally {
    srv.close();
  }
});
