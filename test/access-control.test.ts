import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

const ADMIN_TOKEN = 'admin-secret';
const ask = { model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2 };

async function chat(router: Proc, key?: string): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(ask) });
  await response.text();
  return response.status;
}

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (response.status >= 400 && response.headers.get('content-type')?.includes('json')) assertConforms('ErrorResponse', JSON.parse(text));
  return response.status;
}

describe('the admin token', () => {
  let router: Proc;

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    router = await startRouter({ services: [{ name: 'sim', url: sim.url }] }, { ADMIN_TOKEN });
  });
  afterAll(stopAll);

  it('is read from a Bearer header of any case on every admin route', async () => {
    for (const path of ['/admin/requests', '/admin/fleet', '/admin/keys', '/ui/state']) {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) expect(await status(`${router.url}${path}`, { authorization: `${scheme} ${ADMIN_TOKEN}` }), `${scheme} ${path}`).toBe(200);
      for (const wrong of ['', 'admin', `${ADMIN_TOKEN}-and-more`, `Basic ${ADMIN_TOKEN}`]) {
        expect(await status(`${router.url}${path}`, wrong ? { authorization: wrong.includes(' ') ? wrong : `Bearer ${wrong}` } : {}), `${wrong} ${path}`).toBe(401);
      }
    }
  });

  it('is taken from ?token= only by the dashboard, which a browser opens from a link', async () => {
    expect(await status(`${router.url}/ui?token=${ADMIN_TOKEN}`)).toBe(200);
    expect(await status(`${router.url}/ui/state?token=${ADMIN_TOKEN}`)).toBe(200);
    for (const path of ['/admin/requests', '/admin/fleet', '/admin/keys']) expect(await status(`${router.url}${path}?token=${ADMIN_TOKEN}`), path).toBe(401);
  });
});

describe('a router whose keys were all revoked', () => {
  afterAll(stopAll);

  it('still requires a key: revoking the last key does not open it', async () => {
    const env = { SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db') };
    const { key } = JSON.parse((await runCli(['keys', 'create', 'solo'], env)).stdout) as { key: string };
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    const router = await startRouter({ services: [{ name: 'sim', url: sim.url }], api_keys: { cache_ttl_s: 0.2 } }, env);
    expect(await chat(router, key)).toBe(200);
    expect(await chat(router)).toBe(401);
    expect((await runCli(['keys', 'revoke', 'solo'], env)).code).toBe(0);
    // Longer than the router waits before it looks at the key table again.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await chat(router, key)).toBe(401);
    expect(await chat(router)).toBe(401);
  });
});
