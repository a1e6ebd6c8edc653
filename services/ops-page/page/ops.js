// The operations page: polls /api/snapshot every second and renders it; the two actions post only
// after the operator confirmed what will happen in the dialog. No framework, no build step.
'use strict';

const POLL_MS = 1000;
let snapshot = null;
/** What each section was last rendered from: an unchanged section is left alone (focus, selection). */
const rendered = new Map();

// ---- DOM helpers -------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Re-renders a section only when its data changed, keeping the focused control focused. */
function renderSection(id, data, build) {
  const key = JSON.stringify(data);
  if (rendered.get(id) === key) return;
  rendered.set(id, key);
  const target = document.getElementById(id);
  const focusKey = target.contains(document.activeElement) ? document.activeElement.dataset.focusKey : undefined;
  target.replaceChildren(...[build()].flat());
  if (focusKey) target.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}

const badge = (text, kind) => h('span', { class: `badge ${kind}` }, text);
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const dateTime = (ms) => {
  const d = new Date(ms);
  return `${d.toISOString().slice(0, 10)} ${time(ms)}`;
};
function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
const seconds = (v) => (v < 10 ? `${v.toFixed(2)} s` : `${v.toFixed(0)} s`);
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function table(head, rows, empty) {
  return [
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { class: 'empty', colspan: head.length }, empty))),
  ];
}

// ---- sections ------------------------------------------------------------------------------------

function renderRegions(snap) {
  renderSection('regions', { regions: snap.regions, active: snap.namespaces.map((n) => n.activeRegion) }, () =>
    snap.regions.map((r) => {
      const active = snap.namespaces.filter((n) => n.activeRegion === r.name).length;
      return h(
        'article',
        { class: `card ${r.status}`, 'aria-label': `Region ${r.name}` },
        h('header', {}, h('h3', {}, r.name), badge(r.status, r.status)),
        h('div', { class: 'sub' }, h('span', { class: 'mono' }, r.endpoint), ` · active for ${plural(active, 'namespace')}`),
        h(
          'ul',
          { 'aria-label': `Observers of region ${r.name}` },
          r.observers.length
            ? r.observers.map((o) =>
                h(
                  'li',
                  {},
                  h('span', { class: `dot${o.healthy ? '' : ' bad'}`, 'aria-hidden': 'true' }),
                  h('span', {}, h('strong', {}, o.observer), ` (${o.domain}): ${o.healthy ? 'healthy' : 'unhealthy'}`),
                  h('span', { class: 'sub' }, time(o.atMs)),
                  h('span', { class: 'detail' }, o.detail),
                ),
              )
            : h('li', {}, h('span'), h('span', { class: 'sub' }, 'no observer has reported yet')),
        ),
        h('button', { type: 'button', 'aria-label': `Drill region ${r.name}`, 'data-focus-key': `drill:${r.name}`, onclick: () => openDrill(r.name) }, 'Drill region…'),
      );
    }),
  );
}

function renderNamespaces(snap) {
  renderSection('namespaces', snap.namespaces, () =>
    table(
      ['Namespace', 'Active region', 'Failover version', 'State', 'Replication', 'Regions', ''],
      snap.namespaces.map((n) => {
        const canFail = n.isGlobal && n.regions.length > 1;
        return h(
          'tr',
          { 'aria-label': `Namespace ${n.name}` },
          h('td', {}, h('strong', {}, n.name), n.isGlobal ? '' : h('span', { class: 'sub' }, ' (local)')),
          h('td', { 'data-col': 'active' }, h('strong', {}, n.activeRegion)),
          h('td', { class: 'num mono' }, n.failoverVersion),
          h('td', {}, badge(n.state.toUpperCase(), n.state)),
          h('td', {}, n.replication),
          h('td', {}, n.regions.join(', ')),
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                'aria-label': `Fail over ${n.name}`,
                'data-focus-key': `failover:${n.name}`,
                disabled: !canFail,
                title: canFail ? undefined : 'Only a global namespace with another region fails over',
                onclick: () => openFailover(n.name),
              },
              'Fail over…',
            ),
          ),
        );
      }),
      'No namespaces.',
    ),
  );
}

function renderRoutes(snap) {
  renderSection('routes', snap.routes, () =>
    table(
      ['Namespace', 'Region', 'Endpoint', 'Epoch', 'TTL', ''],
      snap.routes.map((r) =>
        h(
          'tr',
          {},
          h('td', {}, r.namespace === '_default' ? h('em', {}, 'default route') : r.namespace),
          h('td', {}, h('strong', {}, r.region)),
          h('td', { class: 'mono' }, r.endpoint),
          h('td', { class: 'num' }, r.epoch),
          h('td', { class: 'num' }, duration(r.ttlMs)),
          h('td', {}, r.switching ? badge('switching', 'switching') : ''),
        ),
      ),
      'No routes.',
    ),
  );
}

function rpo(a) {
  if (a.mode !== 'forced') return h('span', { class: 'sub' }, 'none (graceful)');
  if (a.lagSeconds === undefined && a.lagTasks === undefined) return h('span', { class: 'sub' }, 'not measured');
  return h('strong', {}, `${seconds(a.lagSeconds ?? 0)}, ${plural(a.lagTasks ?? 0, 'task')}`);
}

function renderAudit(snap) {
  renderSection('audit', snap.audit, () =>
    table(
      ['When', 'Namespace', 'From → to', 'Mode', 'Outcome', 'Lag lost (RPO)', 'Took', 'Who', 'Message'],
      snap.audit.map((a) =>
        h(
          'tr',
          {},
          h('td', { class: 'num' }, dateTime(a.startedAtMs)),
          h('td', {}, a.namespace),
          h('td', {}, `${a.fromRegion} → ${a.toRegion}`),
          h('td', {}, badge(a.mode, a.mode)),
          h('td', {}, badge(a.outcome, a.outcome)),
          h('td', {}, rpo(a)),
          h('td', { class: 'num' }, duration(a.finishedAtMs - a.startedAtMs)),
          h('td', {}, a.identity || h('span', { class: 'sub' }, 'unknown')),
          h('td', { class: 'message' }, a.message),
        ),
      ),
      'No failovers yet.',
    ),
  );
}

// ---- the live lag chart --------------------------------------------------------------------------

const W = 560;
const H = 170;
const M = { left: 46, right: 12, top: 10, bottom: 24 };

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v);
}

function lagChart(series, nowMs, windowMs) {
  const pts = series.points;
  // The x axis starts at a minute and grows with the history, up to the server's window.
  const spanMs = Math.min(windowMs, Math.max(60_000, nowMs - (pts[0]?.atMs ?? nowMs)));
  const x0 = nowMs - spanMs;
  const yMax = niceMax(Math.max(0.1, ...pts.map((p) => p.seconds)) * 1.1);
  const x = (t) => M.left + ((t - x0) / spanMs) * (W - M.left - M.right);
  const y = (v) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const last = pts[pts.length - 1];
  const label = `Replication lag ${series.source} to ${series.target} over the last ${duration(spanMs)}: ${last ? `${seconds(last.seconds)}, ${plural(last.tasks, 'task')} now` : 'no readings'}`;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, 'data-points': pts.length });
  for (const f of [0, 0.5, 1]) {
    svg.append(s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y(yMax * f), y2: y(yMax * f) }));
    svg.append(s('text', { class: 'axis', x: M.left - 6, y: y(yMax * f) + 3.5, 'text-anchor': 'end' }, seconds(yMax * f)));
  }
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const t = x0 + spanMs * f;
    const ago = nowMs - t;
    svg.append(s('text', { class: 'axis', x: x(t), y: H - 6, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' }, ago < 500 ? 'now' : `−${ago < 60_000 ? `${Math.round(ago / 1000)} s` : `${+(ago / 60_000).toFixed(1)} min`}`));
  }
  if (pts.length > 0) {
    const line = pts.map((p) => `${x(p.atMs).toFixed(1)},${y(p.seconds).toFixed(1)}`).join(' ');
    svg.append(s('polygon', { class: 'area', points: `${x(pts[0].atMs).toFixed(1)},${y(0)} ${line} ${x(last.atMs).toFixed(1)},${y(0)}` }));
    svg.append(s('polyline', { class: 'line', points: line }));
    svg.append(s('circle', { class: 'last', cx: x(last.atMs), cy: y(last.seconds), r: 3.5 }));
  }
  return h(
    'figure',
    { class: 'chart', 'aria-label': `Lag ${series.source} → ${series.target}` },
    h('header', {}, h('h3', {}, `${series.source} → ${series.target}`), h('span', { class: 'now' }, last ? [h('strong', {}, seconds(last.seconds)), ` · ${plural(last.tasks, 'task')} unacknowledged`] : 'no readings')),
    svg,
  );
}

function renderLag(snap) {
  const el = document.getElementById('lag');
  // Redrawn every poll: the time axis moves even when the lag does not.
  el.replaceChildren(
    ...(snap.lagHistory.length
      ? snap.lagHistory.map((series) => lagChart(series, snap.generatedAtMs, snap.lagHistoryMs))
      : [h('div', { class: 'placeholder' }, 'No replication streams report lag yet.')]),
  );
}

function render(snap) {
  snapshot = snap;
  const c = snap.controller;
  document.getElementById('controller').textContent = c ? `controller ${c.self}${c.leader === c.self ? ' (leader)' : `, leader ${c.leader ?? 'none'}`}` : '';
  renderRegions(snap);
  renderNamespaces(snap);
  renderLag(snap);
  renderRoutes(snap);
  renderAudit(snap);
}

// ---- polling -------------------------------------------------------------------------------------

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(data.error ?? `${res.status} ${res.statusText}`);
  return data;
}

async function poll() {
  const fresh = document.getElementById('freshness');
  try {
    render(await api('/api/snapshot'));
    fresh.textContent = `Updated ${time(snapshot.generatedAtMs)}`;
    fresh.classList.remove('stale');
  } catch (err) {
    fresh.textContent = `Cannot reach the server (${err.message}); retrying`;
    fresh.classList.add('stale');
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// ---- actions behind a confirmation ---------------------------------------------------------------

const dialog = () => document.getElementById('confirm');

/** Opens the dialog; `describe` states what confirming will do, and runs again whenever a field changes. */
function confirmAction({ title, fields, confirmLabel, describe, run }) {
  const d = dialog();
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-fields').replaceChildren(...fields);
  document.getElementById('confirm-ok').textContent = confirmLabel;
  const what = document.getElementById('confirm-what');
  const update = () => {
    const { text, forced } = describe();
    what.textContent = text;
    what.classList.toggle('forced', Boolean(forced));
  };
  update();
  document.getElementById('confirm-fields').onchange = update;
  document.getElementById('confirm-form').onsubmit = (e) => {
    e.preventDefault();
    d.close('confirm');
    void run();
  };
  d.showModal();
}

function lagOf(source, target) {
  return snapshot.lag.find((l) => l.source === source && l.target === target);
}

function openFailover(name) {
  const ns = snapshot.namespaces.find((n) => n.name === name);
  const targets = ns.regions.filter((r) => r !== ns.activeRegion);
  const select = h('select', { id: 'failover-target' }, targets.map((r) => h('option', { value: r }, r)));
  const mode = (value, text, checked) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'mode', value, checked }), h('span', {}, text));
  const graceful = mode('graceful', 'Graceful: drain, wait for replication, then switch (a drill)', true);
  const forced = mode('forced', 'Forced: switch at once (the active region is down)', false);
  confirmAction({
    title: `Fail over namespace ${name}`,
    fields: [h('label', { for: 'failover-target' }, 'Target region', select), h('fieldset', {}, h('legend', {}, 'Mode'), graceful, forced)],
    confirmLabel: 'Fail over',
    describe: () => {
      const to = select.value;
      if (forced.querySelector('input').checked) {
        const l = lagOf(ns.activeRegion, to);
        const lag = l ? `${seconds(l.seconds)}, ${plural(l.tasks, 'task')}` : 'not known';
        return {
          forced: true,
          text: `${to} becomes active for ${name} at once, without waiting for ${ns.activeRegion}. Whatever ${ns.activeRegion} wrote that ${to} has not applied (replication lag ${ns.activeRegion} → ${to} now: ${lag}) may be lost, or come back later as a losing branch. The route moves to ${to}.`,
        };
      }
      return {
        text: `${name} goes into HANDOVER in ${ns.activeRegion}: new writes there get a retryable error until ${to} has acknowledged everything already written. Then ${to} becomes active with a higher failover version and the route moves to ${to}. Nothing acknowledged is lost; if replication does not catch up in time the failover is aborted and ${name} stays active in ${ns.activeRegion}.`,
      };
    },
    run: () => act(`Failing over ${name} to ${select.value}…`, '/api/failover', { namespace: name, toRegion: select.value, force: forced.querySelector('input').checked }),
  });
}

function openDrill(region) {
  const active = snapshot.namespaces.filter((n) => n.activeRegion === region && n.isGlobal && n.regions.length > 1);
  const back = h('input', { type: 'checkbox', id: 'drill-back', checked: true });
  confirmAction({
    title: `Drill region ${region}`,
    fields: [h('label', { class: 'choice', for: 'drill-back' }, back, h('span', {}, `Fail back to ${region} afterwards`))],
    confirmLabel: 'Start drill',
    describe: () => ({
      text: active.length
        ? `Graceful failover of the ${plural(active.length, 'namespace')} active in ${region} (${active.map((n) => n.name).join(', ')}) to their other region, one after the other: each drains in HANDOVER, waits for replication, then switches.${back.checked ? ` Then each is failed back to ${region} the same way.` : ` They stay there until failed back.`}`
        : `No global namespace is active in ${region}: nothing will change.`,
    }),
    run: () => act(`Drilling region ${region}…`, '/api/drill', { region, andBack: back.checked }),
  });
}

function showResult(state, content) {
  const section = document.getElementById('result-section');
  section.hidden = false;
  section.className = `result ${state}`;
  document.getElementById('result').replaceChildren(...[content].flat());
}

async function act(progress, path, body) {
  showResult('running', progress);
  try {
    const data = await api(path, body);
    const outcomes = data.outcomes ?? [data.outcome];
    showResult(
      outcomes.every((o) => o.ok) ? 'ok' : 'failed',
      outcomes.length
        ? h(
            'ul',
            {},
            outcomes.map((o) =>
              h(
                'li',
                {},
                h('span', { class: `mark ${o.ok ? 'ok' : 'failed'}` }, o.ok ? '✓' : '✗'),
                `${o.namespace}: ${o.fromRegion} → ${o.toRegion} (${o.mode}) ${o.ok ? 'done' : 'failed'} in ${duration(o.durationMs)}`,
                o.message ? ` — ${o.message}` : '',
              ),
            ),
          )
        : 'Nothing to do: no namespace was active there.',
    );
  } catch (err) {
    showResult('failed', [h('span', { class: 'mark failed' }, '✗'), `${err.message}`]);
  }
  rendered.clear();
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('confirm-cancel').addEventListener('click', () => dialog().close('cancel'));
  void poll();
});
