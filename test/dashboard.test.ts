import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

const TOKEN = 'dashboard-secret';
const SCREENSHOT_DIR = join(import.meta.dirname, '../test-output');

describe('dashboard in headless Chromium', () => {
  let router: Proc;
  let doomed: Proc;
  let browser: Browser;

  beforeAll(async () => {
    const [steady, other] = await Promise.all([startSim({ models: ['m1', 'm2'], ttftMs: 5 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    doomed = other;
    router = await startRouter(
      {
        services: [{ name: 'steady', url: steady.url }, { name: 'doomed', url: doomed.url }],
        health_check: { interval_s: 1, timeout_s: 1 },
        request_log: { flush_interval_ms: 100 },
      },
      { ADMIN_TOKEN: TOKEN },
    );
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('needs the admin token when one is set', async () => {
    expect((await fetch(`${router.url}/ui`)).status).toBe(401);
    expect((await fetch(`${router.url}/ui/state`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${router.url}/admin/requests`)).status).toBe(401);
    expect((await fetch(`${router.url}/ui/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('shows every service live, with no console errors, and marks a killed one unhealthy', async () => {
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `dash-${i}` },
        body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
      });
      expect(response.status).toBe(200);
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith(router.url)) problems.push(`external request: ${request.url()}`);
    });
    await page.goto(`${router.url}/ui?token=${TOKEN}`);

    const health = (name: string) => page.locator(`#targets tr[data-target="${name}"] .health`);
    await expect.poll(() => health('steady').textContent()).toBe('healthy');
    await expect.poll(() => health('doomed').textContent()).toBe('healthy');
    await expect.poll(() => page.locator('#requests tbody tr').count()).toBe(4);
    expect(await page.locator('#requests tbody').textContent()).toContain('least-outstanding');
    expect(await page.locator('#targets tr[data-target="steady"]').textContent()).toContain('m1, m2');

    await doomed.stop();
    // Probes run every second; the page polls every second.
    await expect.poll(() => health('doomed').textContent(), { timeout: 5000 }).toBe('unhealthy');
    expect(await health('steady').textContent()).toBe('healthy');
    expect(await page.locator('#summary').textContent()).toBe('1/2 targets healthy');

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
