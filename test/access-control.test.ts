import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
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

async function status(url: string, headers: Record<string, string> = {}, body?: unknown): Promise<number> {
  const response = body === undefined ? await fetch(url, { headers }) : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 400 && response.headers.get('content-type')?.includes('json')) assertConforms('ErrorResponse', JSON.parse(text));
  return response.status;
}

/** The read-only views: [path, POST body or undefined]. */
const READ_ONLY: Array<[string, unknown]> = [
  ['/v1/models', undefined],
  ['/models', undefined],
  ['/v1/models/m1', undefined],
  ['/services', undefined],
  ['/stats', undefined],
  ['/route/explain', ask],
];

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

  it('guards /metrics, which names API keys; the read-only views stay open while no key exists', async () => {
    expect(await status(`${router.url}/metrics`)).toBe(401);
    expect(await status(`${router.url}/metrics`, { authorization: `Bearer ${ADMIN_TOKEN}` })).toBe(200);
    for (const [path, body] of READ_ONLY) expect(await status(`${router.url}${path}`, {}, body), path).toBe(200);
    expect(await status(`${router.url}/health`)).toBe(200);
  });
});

describe('a router that requires keys', () => {
  const env = { SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db'), ADMIN_TOKEN };
  let router: Proc;
  let key: string;

  beforeAll(async () => {
    // A key limited to another model, and already past its budget, still reads.
    key = (JSON.parse((await runCli(['keys', 'create', 'reader', '--models', 'other', '--budget', '0.000001'], env)).stdout) as { key: string }).key;
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    router = await startRouter({ services: [{ name: 'sim', url: sim.url }] }, env);
  });
  afterAll(stopAll);

  it('answers the read-only views only with an API key or the admin token', async () => {
    for (const [path, body] of READ_ONLY) {
      expect(await status(`${router.url}${path}`, {}, body), path).toBe(401);
      expect(await status(`${router.url}${path}`, { authorization: 'Bearer sk-sy-wrong' }, body), path).toBe(401);
      // Let in, whatever its models: an explanation is then that key's request's answer, here its 403 for a model off its list.
      expect(await status(`${router.url}${path}`, { authorization: `Bearer ${key}` }, body), path).toBe(path === '/route/explain' ? 403 : 200);
      expect(await status(`${router.url}${path}`, { authorization: `Bearer ${ADMIN_TOKEN}` }, body), path).toBe(200);
    }
    expect(await status(`${router.url}/route/explain`, { authorization: `Bearer ${key}` }, { ...ask, model: 'other' })).toBe(404);
    // The answer to a malformed explain request is no hint to a caller without a key.
    expect(await status(`${router.url}/route/explain`, {}, [])).toBe(401);
    const models = await new OpenAI({ baseURL: `${router.url}/v1`, apiKey: key, maxRetries: 0 }).models.list();
    expect(models.data.map((m) => m.id)).toContain('m1');
    await expect(new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'sk-sy-wrong', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('leaves /health open for load balancers and keeps /metrics for the admin token', async () => {
    expect(await status(`${router.url}/health`)).toBe(200);
    expect(await status(`${router.url}/metrics`, { authorization: `Bearer ${key}` })).toBe(401);
    expect(await status(`${router.url}/metrics`, { authorization: `Bearer ${ADMIN_TOKEN}` })).toBe(200);
  });

  it('switchyard route --prompt sends the admin token or a key it is given', async () => {
    const args = ['route', 'm1', '--prompt', 'hello', '--url', router.url, '--json'];
    const refused = await runCli(args, { ...env, ADMIN_TOKEN: '' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Incorrect API key');
    // The key is sent: the answer is its request's, a 403 for a model off its list (not a 401).
    const limited = await runCli([...args, '--token', key], env);
    expect(limited.code).toBe(2);
    expect(limited.stderr).toContain("may not use the model 'm1'");
    expect((await runCli(args, env)).code).toBe(0);
  });
});

describe('a router that requires keys but has no admin token', () => {
  afterAll(stopAll);

  it('shows its request log, fleet and dashboard state to nobody, until an admin token is set', async () => {
    const env = { SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db') };
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    const router = await startRouter({ services: [{ name: 'sim', url: sim.url }] }, env);
    const admin = ['/admin/requests', '/admin/fleet', '/ui/state'];
    for (const path of admin) expect(await status(`${router.url}${path}`), path).toBe(200);
    await runCli(['keys', 'create', 'first'], env);
    // Longer than an open router waits before it looks for a first key.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    for (const path of admin) {
      const response = await fetch(`${router.url}${path}`, { headers: { authorization: `Bearer anything` } });
      expect(response.status, path).toBe(403);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assertConforms('ErrorResponse', body);
      expect(body.error).toMatchObject({ code: 'admin_disabled', message: expect.stringContaining('ADMIN_TOKEN') });
    }
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
