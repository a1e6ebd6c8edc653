// The official Temporal Web UI (ui-server v2.42.1, deploy/temporal-ui/) in a real browser (Debian's
// chromium driven by playwright-core) against `tandem dev` as make dev runs it (two regions on
// SQLite behind the global endpoint), seeded by the official client and worker
// (test-e2e/web-ui-fixture.ts): the list's count and status chips, the Running saved view, a
// filter on a custom search attribute, the Relationships tab of a parent and of its child, the Schedules page and a schedule's page, and
// on every page no failed /api/v1 call, no console error and no error toast or banner.
// Each failure names the UI's failed calls (method, status, query, the server's message) and
// leaves a screenshot in the temp folder.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium } from '../deploy/chromium/ensure.js';
import { eventually } from './harness.js';
import { NAMESPACE, SEEDED, SEEDED_TOTAL, startAll, TASK_QUEUE } from './web-ui-fixture.js';

const WAIT_MS = 30_000;
/** Screenshots of failed checks, made on the first failure. */
let shots: string | undefined;

type All = Awaited<ReturnType<typeof startAll>>;

describe('the official Temporal Web UI over make dev', { timeout: 600_000 }, () => {
  let all: All;
  let browser: Browser;
  let page: Page;
  /** What went wrong on the pages of the current test: failed API calls, console errors, page errors. */
  let problems: string[] = [];
  /** Every /api/v1 call of the current test (for the report of what the UI asks). */
  let calls: string[] = [];
  const runIds: Record<string, string> = {};
  /** The UI's /api calls in flight, the history long poll (waitNewEvent) aside. */
  const inFlight = new Set<unknown>();

  before(async () => {
    const executablePath = await ensureChromium();
    all = await startAll();
    for (const id of ['ui-parent', 'ui-parent-child']) {
      runIds[id] = (await all.seeded.client.workflow.getHandle(id).describe()).runId;
    }
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text().slice(0, 400)}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    const tracked = (url: string) => url.includes('/api/') && !url.includes('waitNewEvent=true');
    page.on('request', (req) => void (tracked(req.url()) && inFlight.add(req)));
    page.on('requestfinished', (req) => void inFlight.delete(req));
    page.on('requestfailed', (req) => void inFlight.delete(req));
    page.on('response', async (res) => {
      const url = new URL(res.url());
      if (!url.pathname.startsWith('/api/')) return;
      const call = `${res.request().method()} ${res.status()} ${url.pathname}${decodeURIComponent(url.search)}`;
      calls.push(call);
      if (res.status() >= 400) {
        const body = await res.text().catch(() => '');
        problems.push(`${call} -> ${body.replace(/\s+/g, ' ').slice(0, 400)}`);
      }
    });
  });

  after(async () => {
    await browser?.close();
    await all?.stop();
  });

  beforeEach(() => {
    problems = [];
    calls = [];
  });

  /** Runs a check; on failure adds the UI's failed calls and a screenshot to the message. */
  async function checked(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      await quiet();
      assert.deepEqual(problems, [], 'the UI made no failed call and logged no error');
      assert.deepEqual(await visibleErrors(), [], 'the page shows no error toast or banner');
    } catch (err) {
      shots ??= fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-web-ui-shots-'));
      const file = path.join(shots, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      throw new Error(
        `${(err as Error).message}\n  the UI's failed calls and errors:\n    ${problems.join('\n    ') || '(none)'}\n  its calls:\n    ${calls.join('\n    ')}\n  screenshot: ${file}`,
        { cause: err },
      );
    }
  }

  /** Toasts (the UI's `role=log` region) and the list's "There is an error ..." banner. */
  async function visibleErrors(): Promise<string[]> {
    const toasts = await page.locator('[role=log] p').allTextContents();
    const banners = await page.locator('[role=status]').filter({ hasText: /error/i }).allTextContents();
    return [...toasts, ...banners].map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
  }

  /** Until no /api call (but the history long poll) has been in flight for 500 ms. */
  async function quiet(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    let since = Date.now();
    while (Date.now() - since < 500) {
      if (inFlight.size > 0) since = Date.now();
      if (Date.now() > deadline) throw new Error(`the UI still waits for ${inFlight.size} /api calls`);
      await page.waitForTimeout(100);
    }
  }

  const listUrl = (query?: string) => `${all.ui.url}/namespaces/${NAMESPACE}/workflows${query ? `?query=${encodeURIComponent(query)}` : ''}`;

  /** The workflow ids in the list's rows, sorted. */
  async function rowIds(): Promise<string[]> {
    const labels = await page
      .locator('tr[data-testid=workflows-summary-configurable-table-row] input[aria-label^="Select Workflow "]')
      .evaluateAll((inputs) => inputs.map((i) => i.getAttribute('aria-label') ?? ''));
    return labels.map((l) => l.replace(/^Select Workflow /, '')).sort();
  }

  const countText = async () => ((await page.getByTestId('workflow-count').textContent({ timeout: 5000 })) ?? '').trim();

  /**
   * Loads `url` until the list shows `ids` and the header counts them (visibility is eventually
   * consistent; the UI fetches once per load), or fails with what it showed last.
   */
  async function listUntil(url: string, ids: readonly string[]): Promise<void> {
    const want = [...ids].sort();
    const deadline = Date.now() + WAIT_MS;
    let seen = '';
    for (;;) {
      await page.goto(url);
      await page.getByTestId('workflow-count').waitFor({ timeout: WAIT_MS });
      // The rows and the count arrive in separate calls; give both a moment within this load.
      const loadDeadline = Math.min(deadline, Date.now() + 3000);
      for (;;) {
        const [rows, count] = [await rowIds(), await countText()];
        seen = `rows ${JSON.stringify(rows)}, header count "${count}"`;
        if (JSON.stringify(rows) === JSON.stringify(want) && count === String(want.length)) return;
        if (Date.now() > loadDeadline) break;
        await page.waitForTimeout(250);
      }
      if (Date.now() > deadline) assert.fail(`${url}: wanted rows ${JSON.stringify(want)} and count ${want.length}; saw ${seen}`);
      // Only the latest load's calls matter.
      problems = [];
      calls = [];
    }
  }

  test('the workflows list shows every workflow, the total and a chip per status', () =>
    checked('list', async () => {
      await listUntil(listUrl(), [...SEEDED.running, ...SEEDED.completed, ...SEEDED.failed, ...SEEDED.terminated]);
      assert.equal(await countText(), String(SEEDED_TOTAL));
      const chips: Record<string, number> = {
        Running: SEEDED.running.length,
        Completed: SEEDED.completed.length,
        Failed: SEEDED.failed.length,
        Terminated: SEEDED.terminated.length,
      };
      for (const [status, n] of Object.entries(chips)) {
        const chip = page.getByTestId(`workflow-status-${status}`);
        await chip.waitFor({ timeout: 5000 }).catch(() => undefined);
        assert.equal(((await chip.textContent().catch(() => null)) ?? '(no chip)').replace(/\s+/g, ' ').trim(), `${n} ${status}`, `the ${status} chip`);
      }
      for (const status of ['Canceled', 'TimedOut', 'ContinuedAsNew']) {
        assert.equal(await page.getByTestId(`workflow-status-${status}`).count(), 0, `no ${status} chip`);
      }
    }));

  test('the Running saved view lists only the running workflows', () =>
    checked('running-view', async () => {
      await page.goto(listUrl());
      await page.getByTestId('running').click();
      await page.waitForURL(/query=/, { timeout: WAIT_MS });
      const url = page.url();
      assert.match(decodeURIComponent(url), /ExecutionStatus`?="Running"/);
      await listUntil(url, SEEDED.running);
    }));

  test('the Parent Workflows, Today and Last Hour saved views', () =>
    checked('other-views', async () => {
      const everything = [...SEEDED.running, ...SEEDED.completed, ...SEEDED.failed, ...SEEDED.terminated];
      const views: [string, RegExp, string[]][] = [
        ['child-workflows', /ParentWorkflowId`? is null/, everything.filter((id) => id !== 'ui-parent-child')],
        ['today', /StartTime >= "/, everything],
        ['last-hour', /StartTime >= "/, everything],
      ];
      for (const [testId, query, ids] of views) {
        await page.goto(listUrl());
        await page.getByTestId(testId).click();
        await page.waitForURL(/query=/, { timeout: WAIT_MS });
        const url = page.url();
        assert.match(decodeURIComponent(url).replace(/\+/g, ' '), query, testId);
        await listUntil(url, ids);
      }
    }));

  test('Add Filter offers the custom search attribute, and a filter on it returns its workflows', () =>
    checked('custom-attribute', async () => {
      await page.goto(listUrl());
      await page.getByTestId('add-filter-button').click();
      const menu = page.locator('#search-attribute-menu');
      await menu.waitFor({ timeout: WAIT_MS });
      const offered = (await menu.locator('li[role=menuitem] p').allTextContents()).map((t) => t.trim());
      assert.ok(offered.includes('CustomerId'), `Add Filter offers CustomerId; it offers ${JSON.stringify(offered)}`);
      assert.equal(all.seeded.searchAttributeError, undefined, 'CustomerId was added and set at start');
      // The filter as a user builds it: CustomerId, "Equal to", acme, Apply.
      await menu.locator('li[role=menuitem]').filter({ hasText: 'CustomerId' }).first().click();
      await page.getByTestId('dropdown-filter-chip-CustomerId-0-text').fill('acme');
      await page.getByTestId('apply-filter-button').click();
      await page.waitForURL(/query=/, { timeout: WAIT_MS });
      const url = page.url();
      assert.match(decodeURIComponent(url), /CustomerId`?="acme"/);
      await listUntil(url, SEEDED.acme);
      // And typed into the URL, as a saved link would have it.
      await listUntil(listUrl('CustomerId = "globex" AND ExecutionStatus = "Running"'), ['ui-parent']);
    }));

  test('the Relationships tab shows the parent its child and the child its parent', () =>
    checked('relationships', async () => {
      const tab = (id: string) => `${all.ui.url}/namespaces/${NAMESPACE}/workflows/${id}/${runIds[id]}/relationships`;
      const historyLink = (id: string) => page.locator(`main a[href="/namespaces/${NAMESPACE}/workflows/${id}/${runIds[id]}/history"]`);
      for (const id of ['ui-parent', 'ui-parent-child']) {
        await page.goto(tab(id));
        // The tab draws the root's tree (RootWorkflowId and RootRunId queries): the parent with
        // "Child Count 1" and its child under it, on the parent's page and on the child's. The
        // page's own header never links to the page's own run, so both links are the tree's.
        for (const member of ['ui-parent', 'ui-parent-child']) {
          await historyLink(member).first().waitFor({ timeout: WAIT_MS }).catch(() => undefined);
          assert.ok((await historyLink(member).count()) > 0, `${id}'s Relationships tab links to ${member} (run ${runIds[member]})`);
        }
        assert.ok(await page.getByText('Child Count', { exact: true }).first().isVisible(), `${id}'s Relationships tab shows the tree with child counts`);
        await quiet();
      }
    }));

  test('the Schedules page lists a schedule, and its page shows it with its recent run', () =>
    checked('schedules', async () => {
      const id = 'ui-schedule';
      const client = all.seeded.client;
      const h = await client.schedule.create({
        scheduleId: id,
        spec: { intervals: [{ every: '1h' }] },
        action: { type: 'startWorkflow', workflowType: 'uiDone', args: [3], taskQueue: TASK_QUEUE, workflowId: id },
        state: { note: 'made by the browser test' },
      });
      try {
        await h.trigger();
        const started = await eventually(`${id}'s triggered run`, async () => (await h.describe()).info.recentActions[0]?.action.workflow.workflowId);
        // The list comes from visibility (eventually consistent): load until the schedule shows.
        const deadline = Date.now() + WAIT_MS;
        for (;;) {
          await page.goto(`${all.ui.url}/namespaces/${NAMESPACE}/schedules`);
          await quiet();
          if ((await page.getByText(id, { exact: true }).count()) > 0) break;
          if (Date.now() > deadline) assert.fail(`the Schedules page never listed ${id}`);
          problems = [];
          calls = [];
        }
        await page.goto(`${all.ui.url}/namespaces/${NAMESPACE}/schedules/${id}`);
        await page.getByText(started, { exact: false }).first().waitFor({ timeout: WAIT_MS });
        await page.getByText('made by the browser test').first().waitFor({ timeout: WAIT_MS });
      } finally {
        await h.delete();
      }
    }));
});
