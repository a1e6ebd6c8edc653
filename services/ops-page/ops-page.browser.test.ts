// The operations page in a real browser (Debian's chromium driven by playwright-core) over two
// real regions in this process (DevRegions, what `make dev` runs, on in-memory SQLite): the page
// shows the regions up, `default` active in a and a live lag chart; a cancelled failover changes
// nothing; a confirmed graceful failover to b shows `default` active in b and a new audit row.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium } from '../../deploy/chromium/ensure.js';
import { DevRegions, devRegionsDefaults } from '../../deploy/processes/dev-regions.js';
import { freePort } from '../common/free-port.js';
import { silentLogger } from '../common/logger.js';
import type { OpsPageServer } from './server.js';

const WAIT_MS = 20_000;

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Two regions start in seconds on an idle machine and in minutes on a busy one.
describe('operations page in chromium over two regions', { timeout: 300_000 }, () => {
  let regions: DevRegions;
  let server: OpsPageServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const executablePath = await ensureChromium();
    const defaults = devRegionsDefaults();
    regions = new DevRegions(
      {
        ...defaults,
        opsPagePort: 0,
        devPort: await freePort(),
        numShards: 4,
        logLevel: 'silent',
        regions: await Promise.all(defaults.regions.map(async (r) => ({ ...r, port: await freePort(), metricsPort: 0, store: { kind: 'sqlite' as const, path: ':memory:' } }))),
      },
      silentLogger(),
    );
    await regions.start();
    // The page as make dev serves it.
    server = regions.opsPage!;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    await regions?.stop();
  });

  const activeCell = () => page.getByRole('row', { name: 'Namespace default' }).locator('[data-col=active]');
  const auditRows = () => page.locator('#audit tbody tr:not(:has(td.empty))');

  /** Keeps the page as it was when a check failed, for whoever reads the failure. */
  async function checked(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const file = path.join(os.tmpdir(), `ops-page-${name}-${process.pid}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message} (screenshot: ${file})`);
    }
  }

  test('shows both regions up, default active in a, and the lag chart drawing points', () =>
    checked('snapshot', async () => {
      for (const name of ['a', 'b']) {
        await page.getByRole('article', { name: `Region ${name}` }).locator('.badge.up').waitFor({ timeout: WAIT_MS });
      }
      await until('default is active in a', async () => (await activeCell().textContent()) === 'a');
      await until('a lag chart has points', async () =>
        (await page.locator('#lag svg[role=img]').evaluateAll((svgs) => svgs.map((s) => Number(s.getAttribute('data-points'))))).some((n) => n >= 2),
      );
      const line = (await page.locator('#lag polyline.line').first().getAttribute('points')) ?? '';
      assert.ok(line.split(' ').length >= 2, `the lag line joins points: ${line}`);
      await page.getByRole('row').filter({ hasText: 'default route' }).waitFor({ timeout: WAIT_MS });
    }));

  test('cancel in the confirmation dialog changes nothing', () =>
    checked('cancel', async () => {
      const auditBefore = await auditRows().count();
      await page.getByRole('button', { name: 'Fail over default' }).click();
      const dialog = page.getByRole('dialog', { name: 'Fail over namespace default' });
      await dialog.waitFor();
      assert.match((await dialog.locator('#confirm-what').textContent()) ?? '', /HANDOVER in a/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      // Several polls later: still in a, no new audit entry, no action shown.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(await activeCell().textContent(), 'a');
      assert.equal(await auditRows().count(), auditBefore);
      assert.equal(await page.locator('#result-section').isHidden(), true);
    }));

  test('a confirmed graceful failover makes b active and adds an audit row', () =>
    checked('failover', async () => {
      const auditBefore = await auditRows().count();
      await page.getByRole('button', { name: 'Fail over default' }).click();
      const dialog = page.getByRole('dialog', { name: 'Fail over namespace default' });
      await dialog.getByLabel('Target region').selectOption('b');
      await dialog.getByRole('radio', { name: /Graceful/ }).check();
      await dialog.getByRole('button', { name: 'Fail over' }).click();
      await page.locator('#result').getByText(/default: a → b \(graceful\) done/).waitFor({ timeout: WAIT_MS });
      await until('default is active in b', async () => (await activeCell().textContent()) === 'b');
      await until('a new audit row', async () => (await auditRows().count()) === auditBefore + 1);
      const newest = (await auditRows().first().textContent()) ?? '';
      assert.match(newest, /a → b/);
      assert.match(newest, /graceful/);
      assert.match(newest, /completed/);
      assert.match(newest, /ops page \(127\.0\.0\.1\)/);
      await until('the route follows to b', async () => ((await page.getByRole('row').filter({ hasText: 'default route' }).textContent()) ?? '').includes('b'));
    }));
});
