import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorReply, startFakeProvider, type FakeProvider } from './support/fake-provider.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { freePort, startRedis, type RedisProc } from './support/redis.js';

const CLI = join(import.meta.dirname, '../dist/cli.js');
const ask = { messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 4 };
const ADMIN = { authorization: 'Bearer admin-secret', 'content-type': 'application/json' };

describe('two router instances sharing one Redis', () => {
  const db = join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
  let redis: RedisProc;
  let sim: Proc;
  let sick: FakeProvider;
  let routers: Proc[];
  let key: string;

  const post = async (router: Proc, body: unknown, apiKey = key) => {
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify(body) });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const cooldownOf = async (router: Proc, name: string) => {
    const { services } = (await (await fetch(`${router.url}/services`, { headers: ADMIN })).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
    return services.find((s) => s.name === name)!.cooldown.state;
  };

  beforeAll(async () => {
    redis = await startRedis();
    key = String((JSON.parse(execFileSync(process.execPath, [CLI, 'keys', 'create', 'main'], { env: { ...process.env, SQLITE_DB_PATH: db }, encoding: 'utf8' })) as { key: string }).key);
    sim = await startSim({ models: ['m1', 'limited', 'shaky'], ttftMs: 1 });
    sick = await startFakeProvider(() => errorReply(500, { message: 'broken' }));
    const config = {
      services: [
        { name: 'sim', url: sim.url },
        { name: 'sick', url: sick.url, models: ['shaky'] },
      ],
      rate_limits: { models: { limited: { rpm: 10 } } },
      cooldown: { failure_threshold: 2, window_s: 60, cooldown_s: 600 },
      health_check: { failure_threshold: 1000 },
      retry: { backoff_base_ms: 1 },
      // Records are trusted for a minute: a refusal sooner proves the revocation was announced.
      api_keys: { cache_ttl_s: 60 },
    };
    const env = { SQLITE_DB_PATH: db, REDIS_URL: redis.url, ADMIN_TOKEN: 'admin-secret', REQUIRE_API_KEY: '1' };
    routers = await Promise.all([startRouter(config, env), startRouter(config, env)]);
  });
  afterAll(async () => {
    await stopAll();
    await sick.close();
    await redis.stop();
  });

  it('a limit of N requests per minute admits exactly N across both instances under concurrent load', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => post(routers[i % 2]!, { model: 'limited', ...ask })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(20);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a cache entry written through one instance is a hit through the other', async () => {
    const body = { model: 'm1', ...ask, temperature: 0, messages: [{ role: 'user', content: 'shared cache' }] };
    const first = await post(routers[0]!, body);
    expect(first.headers.get('x-switchyard-cache')).toBe('miss');
    const second = await post(routers[1]!, body);
    expect(second.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.text).toBe(first.text);
  });

  it('a key revoked on one instance is refused on the other', async () => {
    const created = await fetch(`${routers[0]!.url}/admin/keys`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ name: 'temp' }) });
    const { id, key: temp } = (await created.json()) as { id: string; key: string };
    expect((await post(routers[1]!, { model: 'm1', ...ask }, temp)).status).toBe(200);
    expect((await fetch(`${routers[0]!.url}/admin/keys/${id}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    await waitFor(async () => (await post(routers[1]!, { model: 'm1', ...ask }, temp)).status === 401, 'the other instance to refuse the key');
    const client = new OpenAI({ baseURL: `${routers[1]!.url}/v1`, apiKey: temp, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'm1', ...ask })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('a target benched through one instance is avoided by both', async () => {
    for (let i = 0; i < 6 && (await cooldownOf(routers[0]!, 'sick')) === 'ok'; i++) expect((await post(routers[0]!, { model: 'shaky', ...ask })).status).toBe(200);
    expect(await cooldownOf(routers[0]!, 'sick')).toBe('benched');
    await waitFor(async () => (await cooldownOf(routers[1]!, 'sick')) === 'benched', 'the other instance to bench the target');
    const before = sick.requests;
    for (let i = 0; i < 6; i++) expect((await post(routers[i % 2]!, { model: 'shaky', ...ask })).status).toBe(200);
    expect(sick.requests).toBe(before);
  });

  it('keeps answering when Redis dies, shows it in a metric, and recovers when it is back', async () => {
    await redis.stop();
    for (let i = 0; i < 6; i++) {
      const answer = await post(routers[i % 2]!, { model: 'm1', ...ask, temperature: 0, messages: [{ role: 'user', content: `offline ${i}` }] });
      expect(answer.status).toBe(200);
    }
    for (const router of routers) {
      const metrics = await (await fetch(`${router.url}/metrics`, { headers: ADMIN })).text();
      expect(metrics).toMatch(/^switchyard_redis_up 0$/m);
      // The router's log comes through a pipe of its own, which may trail its answers.
      const outageLines = () => router.lines.filter((l) => l.includes('redis unreachable'));
      await waitFor(() => outageLines().length > 0, 'the outage logged');
      expect(outageLines()).toHaveLength(1);
    }
    redis = await startRedis(redis.port);
    for (const router of routers) await waitFor(async () => /^switchyard_redis_up 1$/m.test(await (await fetch(`${router.url}/metrics`, { headers: ADMIN })).text()), 'redis to be back');
    const body = { model: 'm1', ...ask, temperature: 0, messages: [{ role: 'user', content: 'after recovery' }] };
    expect((await post(routers[0]!, body)).headers.get('x-switchyard-cache')).toBe('miss');
    expect((await post(routers[1]!, body)).headers.get('x-switchyard-cache')).toBe('hit');
  });

  it('shows a hung Redis as down from its first timed-out command until one succeeds, between its rests too', async () => {
    const redisUp = async (router: Proc) => /^switchyard_redis_up (\d)$/m.exec(await (await fetch(`${router.url}/metrics`, { headers: ADMIN })).text())?.[1];
    // Cacheable: its admission looks the entry up in Redis.
    const cacheable = (content: string) => ({ model: 'm1', ...ask, temperature: 0, messages: [{ role: 'user', content }] });
    redis.pause();
    try {
      expect((await post(routers[0]!, cacheable('while hung'))).status).toBe(200);
      expect(await redisUp(routers[0]!)).toBe('0');
      // Past the 1 s rest, before any request tried Redis again: a scrape then must not read as up.
      await new Promise((r) => setTimeout(r, 1200));
      expect(await redisUp(routers[0]!)).toBe('0');
    } finally {
      redis.resume();
    }
    await waitFor(async () => (await post(routers[0]!, cacheable('resumed'))).status === 200 && (await redisUp(routers[0]!)) === '1', 'a request to find Redis answering');
  });
});

describe('a router whose Redis is down from the start', () => {
  afterAll(stopAll);

  it('starts, answers from local state and shows Redis as down', async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    const router = await startRouter(
      { services: [{ name: 'sim', url: sim.url }], rate_limits: { models: { m1: { rpm: 2 } } } },
      { SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db'), REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
    );
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: 'm1', ...ask });
    await client.chat.completions.create({ model: 'm1', ...ask });
    // The local limiter still holds the limit.
    await expect(client.chat.completions.create({ model: 'm1', ...ask })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(await (await fetch(`${router.url}/metrics`)).text()).toMatch(/^switchyard_redis_up 0$/m);
  });
});

describe('a key with a budget on two instances that do not share a database', () => {
  let redis: RedisProc;
  let sim: Proc;
  let routers: Proc[];
  let key: string;

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSim({ models: ['m1'], ttftMs: 1 });
    // The same key in two SQLite files: each instance records only its own spend there.
    const first = join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
    key = String((JSON.parse(execFileSync(process.execPath, [CLI, 'keys', 'create', 'thrifty', '--budget', '0.00002'], { env: { ...process.env, SQLITE_DB_PATH: first }, encoding: 'utf8' })) as { key: string }).key);
    const second = join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
    copyFileSync(first, second);
    const config = { services: [{ name: 'sim', url: sim.url }], prices: { m1: { input_per_million: 1, output_per_million: 1 } }, api_keys: { cache_ttl_s: 60 } };
    routers = await Promise.all([first, second].map((db) => startRouter(config, { SQLITE_DB_PATH: db, REDIS_URL: redis.url })));
  });
  afterAll(async () => {
    await stopAll();
    await redis.stop();
  });

  it('spends through one instance and is refused by the other once the budget is used up', async () => {
    const [a, b] = routers.map((router) => new OpenAI({ baseURL: `${router.url}/v1`, apiKey: key, maxRetries: 0 }));
    // The other instance has read the key's record (no spend yet) and trusts it for a minute.
    await b!.chat.completions.create({ model: 'm1', ...ask });
    let refused: unknown;
    for (let i = 0; i < 20 && !refused; i++) await a!.chat.completions.create({ model: 'm1', ...ask }).catch((e: unknown) => (refused = e));
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const onOther = await b!.chat.completions.create({ model: 'm1', ...ask }).catch((e: unknown) => e);
    expect(onOther).toBeInstanceOf(OpenAI.RateLimitError);
    expect((onOther as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
  });
});

describe('an instance shutting down with streams open, sharing Redis with another', () => {
  let redis: RedisProc;
  afterAll(async () => {
    await stopAll();
    await redis.stop();
  });

  it('does not bench the backends of the streams it cuts: a rolling restart leaves the fleet in service', async () => {
    redis = await startRedis();
    const sim = await startSim({ models: ['slow'], ttftMs: 1, tokensPerS: 2 });
    const config = { services: [{ name: 'engine', url: sim.url }], cooldown: { failure_threshold: 2, window_s: 60, cooldown_s: 600 }, health_check: { failure_threshold: 1000 }, shutdown_grace_s: 0.3 };
    const [leaving, staying] = await Promise.all([0, 1].map(() => startRouter(config, { SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db'), REDIS_URL: redis.url })));
    const streams = await Promise.all(
      Array.from({ length: 3 }, () => fetch(`${leaving!.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'slow', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }) })),
    );
    const bodies = streams.map((response) => response.text());
    expect(await leaving!.stop('SIGTERM')).toBe(0);
    for (const body of bodies) expect(await body).toContain('shutting_down');
    // Long enough for an announcement from the leaving instance to have reached the other one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { services } = (await (await fetch(`${staying!.url}/services`)).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
    expect(services.find((s) => s.name === 'engine')!.cooldown.state).toBe('ok');
  });
});
