import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counter, createRegistry, histogram } from '../../services/common/metrics.js';
import { parsePrometheusText, sumSamples } from './prom-text.js';

test('reads what prom-client writes, histograms grouped under their family', async () => {
  const registry = createRegistry({ node: 'n1' });
  counter(registry, 'tandem_x_total', 'x', ['code']).inc({ code: 'OK' }, 2);
  histogram(registry, 'tandem_y_seconds', 'y', ['method']).observe({ method: 'Poll' }, 0.2);
  const families = parsePrometheusText(await registry.metrics());
  assert.equal(families.get('tandem_x_total')?.type, 'counter');
  assert.equal(sumSamples(families, 'tandem_x_total', { code: 'OK', node: 'n1' }), 2);
  const y = families.get('tandem_y_seconds')!;
  assert.equal(y.type, 'histogram');
  assert.ok(y.samples.some((s) => s.name === 'tandem_y_seconds_bucket' && s.labels.le === '+Inf'));
  assert.equal(sumSamples(families, 'tandem_y_seconds_count', { method: 'Poll' }), 1);
  assert.ok(families.has('tandem_process_nodejs_eventloop_lag_seconds'));
});

test('NaN and Inf in any case, escaped label values; malformed lines are named', () => {
  const f = parsePrometheusText('# TYPE a gauge\na{l="q\\"x\\\\"} Nan\nb +inf\n');
  assert.ok(Number.isNaN(f.get('a')!.samples[0]!.value));
  assert.equal(f.get('a')!.samples[0]!.labels.l, 'q"x\\');
  assert.equal(f.get('b')!.samples[0]!.value, Infinity);
  assert.throws(() => parsePrometheusText('ok 1\nbad{l=1} 2\n'), /line 2/);
  assert.throws(() => parsePrometheusText('c abc\n'), /bad sample value/);
});
