import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue } from './support/prometheus.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';
import { runCli } from './support/cli.js';

const TOKEN = 'dashboard-secret';
const SCREENSHOT_DIR = join(import.meta.dirname, '../test-output');
const launchChromium = () =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

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
    browser = await launchChromium();
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
    // Its answers fell in one or two sample intervals: still drawn (a lone point is a dot, not nothing).
    expect(await page.locator('#targets tr[data-target="steady"] td').nth(10).locator('path').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+/);

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});

describe('dashboard and switchyard status a while after an incident', () => {
  let router: Proc;
  let browser: Browser;
  let steadyUrl: string;
  const chat = (body: Record<string, unknown>) =>
    fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, ...body }) });

  beforeAll(async () => {
    const [steady, failing] = await Promise.all([startSim({ models: ['m1'], ttftMs: 5 }), startSim({ models: ['m1'], failStatus: 503 })]);
    steadyUrl = steady.url;
    router = await startRouter({
      services: [{ name: 'steady', url: steady.url }, { name: 'failing', url: failing.url }],
      // Samples every second: a rate of the latest sample would read 0 a second after the traffic.
      health_check: { interval_s: 1, timeout_s: 1, failure_threshold: 10 },
      cooldown: { failure_threshold: 2, cooldown_s: 120 },
      request_log: { flush_interval_ms: 100 },
      model_groups: { m7: { fallbacks: ['m1'] } },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('shows the last minute of errors, client requests apart from upstream attempts, a benched target as not healthy, and unknowns as unknown', async () => {
    // An agent proves it is alive by heartbeat: nothing probes it.
    const registered = await fetch(`${router.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'agent-1', endpoint: steadyUrl, models: ['m9'] }) });
    expect(registered.status).toBe(200);
    // Every attempt on `failing` fails and is retried on `steady`: clients get only 200s. Two failures bench it.
    for (let i = 0; i < 6; i++) expect((await chat({})).status).toBe(200);
    // A model no target serves, with a fallback chain to m1.
    expect((await chat({ model: 'm7' })).status).toBe(200);
    // A stream without usage: its token count is unknown, not 0.
    const stream = await chat({ stream: true });
    expect(stream.status).toBe(200);
    await stream.text();
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    const answered = metricValue(metrics, 'switchyard_requests_total');
    const retries = metricValue(metrics, 'switchyard_upstream_retries_total');
    expect(answered).toBe(8);
    expect(retries).toBe(2);
    // Several samples with no traffic.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    await page.goto(`${router.url}/ui`);
    const cell = (target: string, column: number) => page.locator(`#targets tr[data-target="${target}"] td`).nth(column);
    await expect.poll(() => cell('failing', 1).textContent()).toBe('benched');
    expect(await cell('failing', 5).textContent()).toBe('100.0%');
    expect(await cell('failing', 5).getAttribute('title')).toMatch(/^2 of 2 requests failed in the last \d+ s$/);
    expect(await cell('steady', 5).textContent()).toBe('0.0%');
    expect(await page.locator('#targets th').nth(5).textContent()).toBe('errors (1 min)');
    expect(await page.locator('#summary').textContent()).toBe('2/3 targets healthy');
    expect(await cell('agent-1', 11).textContent()).toBe('not probed');
    const card = (label: string) => page.locator('#activity .card', { hasText: new RegExp(`^\\d+${label}$`) }).locator('b');
    expect(await card('requests').textContent()).toBe(String(answered));
    expect(await card('upstream attempts').textContent()).toBe(String(answered + retries));
    expect(await card('failed').textContent()).toBe('0');
    await expect.poll(() => page.locator('#requests tbody tr').count()).toBe(8);
    const [streamed, fellBack] = [page.locator('#requests tbody tr').nth(0), page.locator('#requests tbody tr').nth(1)];
    expect(await streamed.locator('td').nth(7).textContent()).toBe('–');
    expect(await fellBack.locator('td').nth(9).textContent()).toMatch(/^least-outstanding: steady of 1 healthy, attempt 1 · 1 fallback$/);

    const status = await runCli(['status', '--url', router.url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('2/3 targets healthy');
    expect(status.stdout).toMatch(/^agent-1\s+agent\s+healthy\s+m9\s.*\snot probed$/m);
    expect(status.stdout).toMatch(/^failing\s+service\s+benched\s+m1\s+0\s+[\d.]+\s+100\.0%\s+2\s/m);
    expect(status.stdout).toMatch(/^steady\s+service\s+healthy\s+m1\s+0\s+[\d.]+\s+0\.0%\s+8\s/m);
    expect(status.stdout).toContain(`requests ${answered} · failed 0 · upstream attempts ${answered + retries} · retries ${retries}`);
  });
});
