import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { errorReply, startFakeProvider, type FakeProvider } from './support/fake-provider.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';

const CLI = join(import.meta.dirname, '../dist/cli.js');
const tempDb = () => join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
const ask = { messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 4 };

function cli(dbPath: string, ...args: string[]): Record<string, unknown> {
  return JSON.parse(execFileSync(process.execPath, [CLI, ...args], { env: { ...process.env, SQLITE_DB_PATH: dbPath }, encoding: 'utf8' })) as Record<string, unknown>;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('API keys, limits and budgets', () => {
  const db = tempDb();
  let router: Proc;
  let sim: Proc;
  let keys: Record<string, string>;

  beforeAll(async () => {
    keys = {
      plain: String(cli(db, 'keys', 'create', 'plain').key),
      limited: String(cli(db, 'keys', 'create', 'limited', '--rpm', '2').key),
      onlyM1: String(cli(db, 'keys', 'create', 'only-m1', '--models', 'm1').key),
      thrifty: String(cli(db, 'keys', 'create', 'thrifty', '--budget', '0.00001').key),
      tokens: String(cli(db, 'keys', 'create', 'tokens', '--tpm', '300').key),
    };
    sim = await startSim({ models: ['m1', 'm2'], ttftMs: 1 });
    router = await startRouter(
      { services: [{ name: 'sim', url: sim.url }], prices: { m1: { input_per_million: 1, output_per_million: 1 } }, rate_limits: { default_completion_tokens: 10 }, api_keys: { cache_ttl_s: 0.5 } },
      { SQLITE_DB_PATH: db, ADMIN_TOKEN: 'admin-secret' },
    );
  });
  afterAll(stopAll);

  const client = (apiKey: string) => new OpenAI({ baseURL: `${router.url}/v1`, apiKey, maxRetries: 0 });

  it('lists keys without exposing them or their hashes', () => {
    const listed = JSON.parse(execFileSync(process.execPath, [CLI, 'keys', 'list'], { env: { ...process.env, SQLITE_DB_PATH: db }, encoding: 'utf8' })) as Array<Record<string, unknown>>;
    expect(listed.map((k) => k.name)).toEqual(['plain', 'limited', 'only-m1', 'thrifty', 'tokens']);
    expect(JSON.stringify(listed)).not.toContain(keys.plain!);
    expect(listed[1]).toMatchObject({ rpm: 2, revoked: false });
  });

  it('serves a valid key and refuses a missing or wrong one with 401 in the OpenAI shape', async () => {
    const completion = await client(keys.plain!).chat.completions.create({ model: 'm1', ...ask });
    assertConforms('CreateChatCompletionResponse', completion);
    const wrong = await client('sk-sy-wrong').chat.completions.create({ model: 'm1', ...ask }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrong as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    const missing = await post(`${router.url}/v1/chat/completions`, { model: 'm1', ...ask });
    expect(missing.status).toBe(401);
    assertConforms('ErrorResponse', JSON.parse(missing.text));
  });

  it('limits requests per minute per key with a 429 and retry-after', async () => {
    const limited = client(keys.limited!);
    await limited.chat.completions.create({ model: 'm1', ...ask });
    await limited.chat.completions.create({ model: 'm1', ...ask });
    const refused = await post(`${router.url}/v1/chat/completions`, { model: 'm1', ...ask }, { authorization: `Bearer ${keys.limited}` });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.parse(refused.text).error.code).toBe('rate_limit_exceeded');
    // Other keys are not affected.
    await client(keys.plain!).chat.completions.create({ model: 'm1', ...ask });
  });

  it('limits tokens per minute from the reservation and the real usage', async () => {
    const tokens = client(keys.tokens!);
    let admitted = 0;
    let refused: unknown;
    for (let i = 0; i < 40 && !refused; i++) {
      await tokens.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'count my tokens please' }], max_tokens: 20 }).then(
        () => admitted++,
        (e: unknown) => (refused = e),
      );
    }
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(admitted).toBeGreaterThan(0);
  });

  it('refuses models a key may not use', async () => {
    await client(keys.onlyM1!).chat.completions.create({ model: 'm1', ...ask });
    const refused = await client(keys.onlyM1!).chat.completions.create({ model: 'm2', ...ask }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it('records spend per key and enforces the budget', async () => {
    const thrifty = client(keys.thrifty!);
    let refused: unknown;
    for (let i = 0; i < 20 && !refused; i++) await thrifty.chat.completions.create({ model: 'm1', ...ask }).catch((e: unknown) => (refused = e));
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
    const listed = JSON.parse(execFileSync(process.execPath, [CLI, 'keys', 'list'], { env: { ...process.env, SQLITE_DB_PATH: db }, encoding: 'utf8' })) as Array<Record<string, number | string>>;
    expect(Number(listed.find((k) => k.name === 'thrifty')!.spent_usd)).toBeGreaterThanOrEqual(0.00001);
  });

  it('manages keys over the admin API, guarded by ADMIN_TOKEN', async () => {
    const admin = { authorization: 'Bearer admin-secret' };
    expect((await post(`${router.url}/admin/keys`, { name: 'x' })).status).toBe(401);
    expect((await post(`${router.url}/admin/keys`, { name: '' }, admin)).status).toBe(400);
    // A key for no model at all (as `keys create --models` refuses it), or for names no request may carry, is refused and not created.
    const listed = async () => ((await (await fetch(`${router.url}/admin/keys`, { headers: admin })).json()) as { data: unknown[] }).data.length;
    const before = await listed();
    for (const models of [[], ['m1', 'm1\u001b[2J'], ['m1\ud800'], 'm1']) {
      const refused = await post(`${router.url}/admin/keys`, { name: 'no-models', models }, admin);
      expect(refused.status, JSON.stringify(models)).toBe(400);
      expect(JSON.parse(refused.text)).toMatchObject({ error: { param: 'models', code: 'invalid_type' } });
    }
    // A name that would reach terminals as an escape sequence, or that has no UTF-8 form, is refused alike.
    for (const name of ['ops\u001b[2J', 'ops\u0085', 'ops\ud800']) {
      const refused = await post(`${router.url}/admin/keys`, { name }, admin);
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(JSON.parse(refused.text)).toMatchObject({ error: { type: 'invalid_request_error', param: 'name', code: 'invalid_value', message: expect.stringMatching(/no control characters/) } });
    }
    expect(await listed()).toBe(before);
    const created = await post(`${router.url}/admin/keys`, { name: 'via-http', rpm: 5 }, admin);
    expect(created.status).toBe(201);
    const { id, key } = JSON.parse(created.text) as { id: string; key: string };
    await client(key).chat.completions.create({ model: 'm1', ...ask });
    const revoked = await fetch(`${router.url}/admin/keys/${id}`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    const refused = await client(key).chat.completions.create({ model: 'm1', ...ask }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await fetch(`${router.url}/admin/keys/nope`, { method: 'DELETE', headers: admin })).status).toBe(404);
  });

  it("logs the caller's key on refused and cached requests too", async () => {
    const cached = { model: 'm1', ...ask, temperature: 0, messages: [{ role: 'user', content: 'cached for plain' }] };
    await post(`${router.url}/v1/chat/completions`, cached, { authorization: `Bearer ${keys.plain}`, 'x-request-id': 'log-miss' });
    const hit = await post(`${router.url}/v1/chat/completions`, cached, { authorization: `Bearer ${keys.plain}`, 'x-request-id': 'log-hit' });
    expect(hit.headers.get('x-switchyard-cache')).toBe('hit');
    expect((await post(`${router.url}/v1/chat/completions`, { model: 'm2', ...ask }, { authorization: `Bearer ${keys.onlyM1}`, 'x-request-id': 'log-403' })).status).toBe(403);
    // rpm 2: the third request within the window at the latest is refused.
    let limitedStatus = 0;
    for (let i = 0; i < 3 && limitedStatus !== 429; i++) {
      limitedStatus = (await post(`${router.url}/v1/chat/completions`, { model: 'm1', ...ask }, { authorization: `Bearer ${keys.limited}`, 'x-request-id': 'log-429' })).status;
    }
    expect(limitedStatus).toBe(429);
    expect((await post(`${router.url}/v1/chat/completions`, { model: 'm1', ...ask }, { authorization: 'Bearer sk-sy-wrong', 'x-request-id': 'log-401' })).status).toBe(401);
    const rows = await waitFor(async () => {
      const { data } = (await (await fetch(`${router.url}/admin/requests`, { headers: { authorization: 'Bearer admin-secret' } })).json()) as { data: Array<{ requestId: string; callerKey: string | null; cacheStatus: string | null }> };
      const byId = new Map(data.map((row) => [row.requestId, row]));
      return ['log-hit', 'log-403', 'log-429', 'log-401'].every((id) => byId.has(id)) ? byId : undefined;
    }, 'the request log rows');
    expect(rows.get('log-hit')).toMatchObject({ callerKey: 'plain', cacheStatus: 'hit' });
    expect(rows.get('log-403')).toMatchObject({ callerKey: 'only-m1', cacheStatus: null });
    expect(rows.get('log-429')).toMatchObject({ callerKey: 'limited', cacheStatus: null });
    expect(rows.get('log-401')).toMatchObject({ callerKey: null });
  });

  it('revokes by name over the admin API only when one active key has it: 409 naming the keys otherwise, 404 once revoked', async () => {
    const admin = { authorization: 'Bearer admin-secret' };
    const create = async () => JSON.parse((await post(`${router.url}/admin/keys`, { name: 'rotating' }, admin)).text) as { id: string; key: string; prefix: string };
    const [old, rotated] = [await create(), await create()];
    const revoke = async (idOrName: string) => {
      const response = await fetch(`${router.url}/admin/keys/${idOrName}`, { method: 'DELETE', headers: admin });
      return { status: response.status, body: (await response.json()) as { id?: string; revoked?: boolean; error?: { message: string; code: string } } };
    };
    const ambiguous = await revoke('rotating');
    expect(ambiguous.status).toBe(409);
    assertConforms('ErrorResponse', ambiguous.body);
    expect(ambiguous.body.error).toMatchObject({ code: 'ambiguous_key_name', message: expect.stringContaining(old.id) });
    expect(ambiguous.body.error!.message).toContain(rotated.id);
    expect(ambiguous.body.error!.message).toContain(old.prefix);
    for (const { key } of [old, rotated]) await client(key).chat.completions.create({ model: 'm1', ...ask });

    expect(await revoke(old.id)).toMatchObject({ status: 200, body: { id: old.id, revoked: true } });
    expect(await client(old.key).chat.completions.create({ model: 'm1', ...ask }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    await client(rotated.key).chat.completions.create({ model: 'm1', ...ask });
    const again = await revoke(old.id);
    expect(again.status).toBe(404);
    assertConforms('ErrorResponse', again.body);
    expect(again.body.error!.code).toBe('key_already_revoked');
    expect(await revoke('rotating')).toMatchObject({ status: 200, body: { id: rotated.id, revoked: true } });
    expect((await revoke('rotating')).status).toBe(404);
  });

  it('keys revoke on the command line refuses an ambiguous name and an already revoked key', async () => {
    const env = { SQLITE_DB_PATH: db };
    const [old, rotated] = [cli(db, 'keys', 'create', 'cli-rotating'), cli(db, 'keys', 'create', 'cli-rotating')];
    const ambiguous = await runCli(['keys', 'revoke', 'cli-rotating'], env);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/2 active API keys are named 'cli-rotating'/);
    expect(ambiguous.stderr).toContain(String(old.id));
    expect(ambiguous.stderr).toContain(String(rotated.id));
    expect(cli(db, 'keys', 'revoke', String(old.id))).toMatchObject({ id: old.id, revoked: true });
    const again = await runCli(['keys', 'revoke', String(old.id)], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already revoked');
    expect(cli(db, 'keys', 'revoke', 'cli-rotating')).toMatchObject({ id: rotated.id, revoked: true });
    expect((await runCli(['keys', 'revoke', 'no-such-key'], env)).code).toBe(1);
  });

  it('a key revoked with the CLI is refused once the router re-reads it', async () => {
    const { key } = cli(db, 'keys', 'create', 'short-lived');
    await client(String(key)).chat.completions.create({ model: 'm1', ...ask });
    cli(db, 'keys', 'revoke', 'short-lived');
    await waitFor(async () => (await post(`${router.url}/v1/chat/completions`, { model: 'm1', ...ask }, { authorization: `Bearer ${key}` })).status === 401, 'revocation', 10_000);
  });
});

describe('open router: per-caller and per-model limits, response cache, cooldowns', () => {
  let router: Proc;
  let sim: Proc;
  let sick: FakeProvider;
  let client: OpenAI;

  beforeAll(async () => {
    sim = await startSim({ models: ['m1', 'm2', 'shaky'], ttftMs: 1 });
    sick = await startFakeProvider(() => errorReply(500, { message: 'broken' }));
    router = await startRouter(
      {
        services: [
          { name: 'sim', url: sim.url },
          { name: 'sick', url: sick.url, models: ['shaky'] },
        ],
        // 'M2' is nobody's model: names are case-sensitive, so its limit would never apply.
        rate_limits: { models: { m2: { rpm: 3 }, M2: { rpm: 3 } } },
        cooldown: { failure_threshold: 2, window_s: 60, cooldown_s: 0.5 },
        health_check: { failure_threshold: 1000 },
        retry: { backoff_base_ms: 1 },
      },
      { SQLITE_DB_PATH: tempDb() },
    );
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await sick.close();
  });

  it('is open without keys, and limits a model per minute', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => post(`${router.url}/v1/chat/completions`, { model: 'm2', ...ask })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(3);
    assertConforms('ErrorResponse', JSON.parse(refused[0]!.text));
  });

  it('warns at start-up of a per-model limit for a name nothing serves, and serves no such name', async () => {
    const warnings = router.lines.filter((line) => line.includes('rate_limits.models names no')).map((line) => (JSON.parse(line) as { models: string[] }).models);
    expect(warnings).toEqual([['M2']]);
    expect((await post(`${router.url}/v1/chat/completions`, { model: 'M2', ...ask })).status).toBe(404);
  });

  it('caches deterministic requests: miss, then hit with the same body in another key order', async () => {
    const body = { model: 'm1', ...ask, temperature: 0, messages: [{ role: 'user', content: 'cache me' }] };
    const first = await post(`${router.url}/v1/chat/completions`, body);
    expect(first.headers.get('x-switchyard-cache')).toBe('miss');
    const second = await post(`${router.url}/v1/chat/completions`, Object.fromEntries(Object.entries(body).reverse()));
    expect(second.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('x-switchyard-target')).toBe('sim');
    assertConforms('CreateChatCompletionResponse', JSON.parse(second.text));
  });

  it('bypasses non-deterministic requests, no-store and cache:false; opts in with cache:true and strips the field', async () => {
    const body = { model: 'm1', ...ask, messages: [{ role: 'user', content: 'sampled' }] };
    expect((await post(`${router.url}/v1/chat/completions`, body)).headers.get('x-switchyard-cache')).toBe('bypass');
    expect((await post(`${router.url}/v1/chat/completions`, { ...body, temperature: 0 }, { 'cache-control': 'no-store' })).headers.get('x-switchyard-cache')).toBe('bypass');
    expect((await post(`${router.url}/v1/chat/completions`, { ...body, temperature: 0, cache: false })).headers.get('x-switchyard-cache')).toBe('bypass');
    expect((await post(`${router.url}/v1/chat/completions`, { ...body, cache: true })).headers.get('x-switchyard-cache')).toBe('miss');
    const upstream = (await (await fetch(`${sim.url}/sim/stats`)).json()) as { lastRequest: { body: string } };
    expect(JSON.parse(upstream.lastRequest.body)).not.toHaveProperty('cache');
    expect((await post(`${router.url}/v1/chat/completions`, { ...body, cache: true })).headers.get('x-switchyard-cache')).toBe('hit');
    // no-cache: fetch fresh (and refresh the entry).
    expect((await post(`${router.url}/v1/chat/completions`, { ...body, cache: true }, { 'cache-control': 'no-cache' })).headers.get('x-switchyard-cache')).toBe('bypass');
    const invalid = await post(`${router.url}/v1/chat/completions`, { ...body, cache: 'yes' });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error).toMatchObject({ param: 'cache', code: 'invalid_type' });
  });

  it('caches embeddings without opting in', async () => {
    const first = await client.embeddings.create({ model: 'm1', input: 'embed me' }).withResponse();
    const second = await client.embeddings.create({ model: 'm1', input: 'embed me' }).withResponse();
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(second.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.data.data[0]!.embedding).toEqual(first.data.data[0]!.embedding);
  });

  it('replays a cached stream with its original chunking', async () => {
    const body = { model: 'm1', messages: [{ role: 'user', content: 'stream me' }], max_tokens: 6, temperature: 0, stream: true };
    const first = await post(`${router.url}/v1/chat/completions`, body);
    const second = await post(`${router.url}/v1/chat/completions`, body);
    expect(first.headers.get('x-switchyard-cache')).toBe('miss');
    expect(second.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.headers.get('content-type')).toContain('text/event-stream');
    expect(second.text).toBe(first.text);
    const stream = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'stream me' }], max_tokens: 6, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) {
      assertConforms('CreateChatCompletionStreamResponse', chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_cache_requests_total\{result="hit"\} [1-9]/);
  });

  it('benches a repeatedly failing target, shows it, then probes it once', async () => {
    for (let i = 0; i < 4; i++) await client.chat.completions.create({ model: 'shaky', ...ask });
    const services = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
    expect(services.services.find((s) => s.name === 'sick')!.cooldown.state).not.toBe('ok');
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
    expect(stats.services.find((s) => s.name === 'sick')!.cooldown.state).not.toBe('ok');
    const ui = (await (await fetch(`${router.url}/ui/state`)).json()) as { targets: Array<{ name: string; cooldown: { state: string } }> };
    expect(ui.targets.find((t) => t.name === 'sick')!.cooldown.state).not.toBe('ok');
    // `switchyard status` shows it out of service too, though its health probes pass.
    const status = await runCli(['status', '--url', router.url]);
    expect(status.stdout.split('\n').find((line) => line.startsWith('sick '))).toMatch(/\b(benched|probing)\b/);
    // After the cooling period exactly one request probes it; the probe fails and benches it again.
    await waitFor(async () => {
      const s = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
      return s.services.find((x) => x.name === 'sick')!.cooldown.state === 'probing';
    }, 'cooldown to end');
    const before = sick.requests;
    const answers = await Promise.all(Array.from({ length: 4 }, () => client.chat.completions.create({ model: 'shaky', ...ask })));
    expect(answers.every((a) => a.model === 'shaky')).toBe(true);
    expect(sick.requests - before).toBe(1);
  });
});
