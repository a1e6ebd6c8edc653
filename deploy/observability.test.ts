// The dashboard and the alert rules only name metrics the code exports: a renamed metric breaks
// this test instead of silently emptying a panel or disarming an alert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry } from '../services/common/metrics.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Metric names the code registers: string literals in services/, replication/, deploy/ and proto/, plus prom-client's process metrics. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const f of ['services', 'replication', 'deploy', 'proto'].flatMap((d) => sourceFiles(path.join(root, d)))) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/['"`](tandem_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
  }
  for (const m of await createRegistry().getMetricsAsJSON()) names.add(m.name);
  return names;
}

/** Metric names in PromQL text; histogram sample suffixes map back to their family. */
function referenced(exprs: string[], exported: Set<string>): Map<string, string> {
  const refs = new Map<string, string>();
  for (const e of exprs) {
    for (const m of e.matchAll(/\btandem_[a-z0-9_]+/g)) {
      const name = m[0];
      const family = ['_bucket', '_sum', '_count'].map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : '')).find((b) => b && exported.has(b));
      refs.set(name, family ?? name);
    }
  }
  return refs;
}

test('every metric the dashboard and the alert rules use is exported by the code', async () => {
  const exported = await exportedNames();
  assert.ok(exported.has('tandem_frontend_requests_total') && exported.has('tandem_process_nodejs_eventloop_lag_p99_seconds'));

  const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'deploy/dashboards/tandem.json'), 'utf8')) as {
    panels: { id: number; type: string; targets?: { expr: string }[] }[];
    templating: { list: { definition?: string }[] };
  };
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const graphs = dashboard.panels.filter((p) => p.type !== 'row');
  for (const p of graphs) assert.ok((p.targets ?? []).length > 0, `panel ${p.id} has a query`);
  const dashExprs = [...graphs.flatMap((p) => p.targets!.map((t) => t.expr)), ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : []))];

  const rules = fs.readFileSync(path.join(root, 'deploy/alerts/tandem-rules.yml'), 'utf8');
  const ruleExprs = [...rules.matchAll(/^\s+expr: (\|\n(?:\s{10,}.*\n)+|.*)$/gm)].map((m) => m[1]!);
  const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
  assert.equal(ruleExprs.length, alerts.length, 'every alert has an expr');

  for (const [what, exprs] of [
    ['dashboard', dashExprs],
    ['alert rules', ruleExprs],
  ] as const) {
    const refs = referenced(exprs, exported);
    assert.ok(refs.size > 0, `${what} reference metrics`);
    const missing = [...refs].filter(([, family]) => !exported.has(family)).map(([name]) => name);
    assert.deepEqual(missing, [], `${what} use metrics no code exports`);
  }
  // The subjects all have a panel.
  const used = new Set(referenced(dashExprs, exported).values());
  for (const m of [
    'tandem_frontend_requests_total',
    'tandem_frontend_request_duration_seconds',
    'tandem_persistence_latency_seconds',
    'tandem_persistence_errors_total',
    'tandem_history_shards_owned',
    'tandem_history_shard_acquisitions_total',
    'tandem_history_shard_losses_total',
    'tandem_matching_backlog_tasks',
    'tandem_matching_tasks_added_total',
    'tandem_matching_schedule_to_start_seconds',
    'tandem_failover_handover_wait_seconds',
    'tandem_failovers_total',
  ]) {
    assert.ok(used.has(m), `the dashboard shows ${m}`);
  }
});
