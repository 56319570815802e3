import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { startFakeOpenAi, type FakeOpenAi } from './support/fake-openai.js';
import { errorReply, startFakeProvider, type FakeProvider } from './support/fake-provider.js';
import { postJson } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, startSim, stopAll, waitFor } from './support/processes.js';

/**
 * What the users of the systems Switchyard replaces bring along unchanged: the provider router's
 * `.env` files, the InfiniLM router's clients, LiteLLM proxy clients.
 */

afterAll(stopAll);

describe("the provider router's .env: base URLs given as origins", () => {
  let fake: FakeOpenAi;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-origins-'));
    // As the replaced router documented them: origins, to which it appended each provider's API path.
    const env = {
      ...NO_PROVIDER_ENV,
      SQLITE_DB_PATH: join(dir, 'models.db'),
      OPENAI_BASE_URL: fake.url,
      EXTERNAL_OPENAI_KEY: 'sk-openai',
      OPENROUTER_BASE_URL: fake.url,
      EXTERNAL_OPENROUTER_KEY: 'sk-or',
      GROK_BASE_URL: `${fake.url}/`,
      EXTERNAL_GROK_KEY: 'gsk-groq',
    };
    expect((await runCli(['models', 'add', 'my-router-model', 'openrouter', fake.url], env, dir)).code).toBe(0);
    const router = await startRouter({ services: [] }, env);
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => fake.close());

  const pathFor = async (model: string) => {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    return fake.received.at(-1)!.url;
  };

  it("appends the API path the replaced router appended: OpenRouter's /api/v1, Groq's /openai/v1, OpenAI's /v1", async () => {
    expect(await pathFor('openrouter/meta-llama/llama-3-8b')).toBe('/api/v1/chat/completions');
    expect(await pathFor('grok-3')).toBe('/openai/v1/chat/completions');
    expect(await pathFor('gpt-4o-mini')).toBe('/v1/chat/completions');
  });

  it('does the same for a registry entry of that provider type', async () => {
    expect(await pathFor('my-router-model')).toBe('/api/v1/chat/completions');
  });

  it('takes its CACHE_TTL (seconds) and LOG_PATH (the log file, in the directory to log to)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-old-env-'));
    const env = { ...NO_PROVIDER_ENV, CACHE_TTL: '1', LOG_PATH: join(dir, 'iir', 'router.log'), LOG_DIR: '' };
    const router = await startRouter({ services: [{ name: 'openai-like', url: fake.url, models: ['gpt-4o-mini'] }] }, env);
    const cacheStatus = async () => {
      const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ttl' }], temperature: 0 }) });
      await response.arrayBuffer();
      return response.headers.get('x-switchyard-cache');
    };
    expect(await cacheStatus()).toBe('miss');
    expect(await cacheStatus()).toBe('hit');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await cacheStatus()).toBe('miss');
    expect(existsSync(join(dir, 'iir', 'router.log'))).toBe(true);
  });

  it('keeps the rate of RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW seconds (1 per 20 s: 3 a minute)', async () => {
    const router = await startRouter({ services: [{ name: 'openai-like', url: fake.url, models: ['gpt-4o-mini'] }] }, { ...NO_PROVIDER_ENV, RATE_LIMIT_REQUESTS: '1', RATE_LIMIT_WINDOW: '20' });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe("the InfiniLM router's clients: base URL at the root, trailing slashes", () => {
  let url: string;

  beforeAll(async () => {
    const sim = await startSim({ models: ['9g_8b_thinking'] });
    url = (await startRouter({ services: [{ name: 'service_9g8b_8100', url: sim.url }] }, NO_PROVIDER_ENV)).url;
  });

  it('retrieves a model through /models/{id}, the twin of /v1/models/{id}, as the OpenAI SDK does with the root as its base URL', async () => {
    const client = new OpenAI({ baseURL: url, apiKey: 'not-needed', maxRetries: 0 });
    expect(await client.models.retrieve('9g_8b_thinking')).toMatchObject({ id: '9g_8b_thinking', object: 'model' });
    await expect(client.models.retrieve('nope')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('answers a path with a trailing slash as the path without it, inference routes included', async () => {
    for (const path of ['/health/', '/models/', '/v1/models/', '/v1/models/9g_8b_thinking/', '/services/', '/stats/']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(200);
    }
    const chat = { model: '9g_8b_thinking', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
    for (const path of ['/v1/chat/completions/', '/chat/completions/']) {
      const response = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(chat) });
      expect(response.status, path).toBe(200);
      expect(await response.json()).toMatchObject({ object: 'chat.completion' });
    }
    const completion = await fetch(`${url}/v1/completions/`, { method: 'POST', body: JSON.stringify({ model: '9g_8b_thinking', prompt: 'hi', max_tokens: 2 }) });
    expect(completion.status).toBe(200);
  });
});

describe("clients of vLLM engines behind the InfiniLM router: its chat embeddings", () => {
  it('forwards an embeddings request that sends `messages` in place of `input`', async () => {
    const received: Array<Record<string, unknown>> = [];
    const engine = await startFakeProvider(({ body }) => {
      received.push(body);
      return { status: 200, body: JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'vlm2vec', usage: { prompt_tokens: 3, total_tokens: 3 } }) };
    });
    const router = await startRouter({ services: [{ name: 'vllm', url: engine.url, models: ['vlm2vec'] }] }, NO_PROVIDER_ENV);
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'a photo of a cat' }] }];
    const response = await fetch(`${router.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'vlm2vec', messages, encoding_format: 'float' }) });
    expect(response.status).toBe(200);
    expect(received.at(-1)).toMatchObject({ model: 'vlm2vec', messages });
    // Neither field is still a 400, as before.
    expect((await fetch(`${router.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'vlm2vec' }) })).status).toBe(400);
    await engine.close();
  });
});

describe("LiteLLM proxy clients and deployments: the `cache` object of per-request cache controls, probe paths", () => {
  let url: string;
  let simUrl: string;

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    simUrl = sim.url;
    url = (await startRouter({ services: [{ name: 'sim', url: sim.url }] }, NO_PROVIDER_ENV)).url;
  });

  /** A sampled chat (temperature 0.7: not cached by the determinism rule alone) with LiteLLM's `cache` field. */
  const chat = async (content: string, cache: unknown) => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content }], max_tokens: 2, temperature: 0.7, cache }),
    });
    return { status: response.status, cache: response.headers.get('x-switchyard-cache'), body: (await response.json()) as { error?: { param: string } } };
  };

  it('opts in with the object and strips it before the backend', async () => {
    expect((await chat('ttl', { ttl: 300 })).cache).toBe('miss');
    const upstream = (await (await fetch(`${simUrl}/sim/stats`)).json()) as { lastRequest: { body: string } };
    expect(JSON.parse(upstream.lastRequest.body)).not.toHaveProperty('cache');
    expect((await chat('ttl', { ttl: 300 })).cache).toBe('hit');
  });

  it('honours no-cache (fresh answer, stored), no-store (never stored) and use-cache: false', async () => {
    expect((await chat('no-cache', { 'no-cache': true })).cache).toBe('bypass');
    expect((await chat('no-cache', {})).cache).toBe('hit');
    expect((await chat('no-store', { 'no-store': true })).cache).toBe('bypass');
    expect((await chat('no-store', {})).cache).toBe('miss');
    expect((await chat('use-cache', { 'use-cache': false })).cache).toBe('bypass');
  });

  it('honours ttl, s-maxage and namespace', async () => {
    expect((await chat('short', { ttl: 1 })).cache).toBe('miss');
    expect((await chat('short', { ttl: 1 })).cache).toBe('hit');
    expect((await chat('short', { ttl: 1, 's-maxage': 0 })).cache).toBe('miss');
    expect((await chat('short', { ttl: 1, namespace: 'team-a' })).cache).toBe('miss');
    expect((await chat('short', { ttl: 1, namespace: 'team-a' })).cache).toBe('hit');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await chat('short', { ttl: 1 })).cache).toBe('miss');
  });

  it('refuses a control of the wrong type with 400 naming it', async () => {
    const refused = await chat('bad', { ttl: 'an hour' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ param: 'cache.ttl' });
  });

  it("answers LiteLLM's Kubernetes probe paths: liveliness (and liveness), readiness", async () => {
    for (const path of ['/health/liveliness', '/health/liveness']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.json()).toBe("I'm alive!");
    }
    const ready = await fetch(`${url}/health/readiness`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'healthy', router: 'running' });
  });
});

describe("LiteLLM proxy clients: client-side `fallbacks`", () => {
  let url: string;
  let simUrl: string;
  let broken: FakeProvider;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1', 'm2'], ttftMs: 1 });
    simUrl = sim.url;
    broken = await startFakeProvider(() => errorReply(503, { message: 'overloaded', type: 'server_error' }));
    env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-fallbacks-')), 'models.db') };
    const config = { services: [{ name: 'sim', url: sim.url }, { name: 'broken', url: broken.url, models: ['zephyr-beta'] }], retry: { max_attempts: 1 } };
    url = (await startRouter(config, env)).url;
  });
  afterAll(() => broken.close());

  it('tries the models the request names after its own fails, and does not send the field upstream', async () => {
    const client = new OpenAI({ baseURL: url, apiKey: 'anything', maxRetries: 0 });
    const { data, response } = await client.chat.completions
      // @ts-expect-error LiteLLM's field, sent as the Python SDK's extra_body sends it
      .create({ model: 'zephyr-beta', messages: [{ role: 'user', content: 'write a short poem' }], max_tokens: 2, fallbacks: ['m2'] })
      .withResponse();
    expect(data.model).toBe('m2');
    expect(response.headers.get('x-switchyard-target')).toBe('sim');
    const upstream = (await (await fetch(`${simUrl}/sim/stats`)).json()) as { lastRequest: { body: string } };
    expect(JSON.parse(upstream.lastRequest.body)).not.toHaveProperty('fallbacks');
    // A model nothing serves falls back too, as on LiteLLM.
    expect((await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, fallbacks: ['m1'] } as never)).model).toBe('m1');
    // Names the client made up stay out of metric labels.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_fallbacks_total', { from: 'unknown', to: 'm1', trigger: 'unavailable' })).toBe(1);
    expect(metrics).not.toContain('"nope"');
  });

  it("refuses a malformed list with 400, and a fallback the caller's key may not use with its usual refusal", async () => {
    const malformed = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm1', messages: [], fallbacks: 'm2' }) });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { param: string } }).error.param).toBe('fallbacks');
    const { key } = JSON.parse((await runCli(['keys', 'create', 'm1-only', '--models', 'm1'], env)).stdout) as { key: string };
    // The running router notices its first key within seconds.
    await waitFor(async () => (await fetch(`${url}/v1/models`)).status === 401, 'keys to be required');
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, fallbacks: ['m2'] } as never)).rejects.toMatchObject({ status: 403 });
    expect((await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, fallbacks: ['m1'] } as never)).model).toBe('m1');
  });
});

describe("LiteLLM proxy clients' `fallbacks`, explained: POST /route/explain and switchyard route answer as the request would", () => {
  const ADMIN_TOKEN = 'admin-secret';
  let url: string;
  let anyModel: string;
  let m1Only: string;
  let broken: FakeProvider;
  let env: NodeJS.ProcessEnv;
  const ask = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
  const explain = (body: object, token = ADMIN_TOKEN) => postJson(`${url}/route/explain`, { ...ask, ...body }, { authorization: `Bearer ${token}` });
  const send = (body: object, key = anyModel) => postJson(`${url}/v1/chat/completions`, { ...ask, ...body }, { authorization: `Bearer ${key}` });
  /** Each step's model, then what each of its targets would reach: a replica, or its error's status. */
  const outcomes = (steps: Array<{ model: string; targets: Array<{ target?: string; error?: { status: number } }> }>) =>
    steps.map((step) => [step.model, ...step.targets.map((target) => target.target ?? target.error?.status)]);

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1', 'm2', 'm3'], ttftMs: 1 });
    broken = await startFakeProvider(() => errorReply(503, { message: 'overloaded', type: 'server_error' }));
    env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-explained-fallbacks-')), 'models.db'), ADMIN_TOKEN };
    // Keys from the start: the router requires them at once.
    const createKey = async (...args: string[]) => (JSON.parse((await runCli(['keys', 'create', ...args], env)).stdout) as { key: string }).key;
    anyModel = await createKey('any-model');
    m1Only = await createKey('m1-only', '--models', 'm1');
    const config = {
      services: [{ name: 'sim', url: sim.url }, { name: 'broken', url: broken.url, models: ['zephyr-beta'] }],
      model_groups: { smart: { targets: [{ model: 'm1', weight: 1 }], fallbacks: ['m2'] } },
      retry: { max_attempts: 1 },
    };
    url = (await startRouter(config, env)).url;
  });
  afterAll(() => broken.close());

  it('lists the fallbacks a request names after its own chain, each resolved as the request resolves it', async () => {
    // The model fails, an unknown fallback is passed over, the next one answers: as explained.
    const explained = await explain({ model: 'zephyr-beta', fallbacks: ['nope', 'm2'] });
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({ model: 'zephyr-beta', target: 'broken', resolution: expect.any(String), policy: expect.any(String), candidates: [{ name: 'broken' }] });
    expect(outcomes(explained.body.client_fallbacks)).toEqual([['nope', 404], ['m2', 'sim']]);
    expect(explained.body.client_fallbacks[0].targets[0]).toMatchObject({ model: 'nope', weight: 1, resolution: expect.stringContaining('no registry entry'), error: { code: 'model_not_found' } });
    const sent = await send({ model: 'zephyr-beta', fallbacks: ['nope', 'm2'] });
    expect(sent.status).toBe(200);
    expect([sent.body.model, sent.headers.get('x-switchyard-target')]).toEqual(['m2', 'sim']);

    // An unknown model with a fallback that is routable: the request goes on, and so does its explanation.
    const unknownFirst = await explain({ model: 'nope', fallbacks: ['m1'] });
    expect(unknownFirst.status).toBe(200);
    expect(unknownFirst.body).toMatchObject({ model: 'nope', resolution: expect.stringContaining('no registry entry'), error: { status: 404, code: 'model_not_found' } });
    expect(unknownFirst.body).not.toHaveProperty('target');
    expect(outcomes(unknownFirst.body.client_fallbacks)).toEqual([['m1', 'sim']]);
    expect((await send({ model: 'nope', fallbacks: ['m1'] })).body.model).toBe('m1');
    // Nothing routable: the request's own answer.
    const nowhere = { model: 'nope', fallbacks: ['also-nope'] };
    const [explainedNowhere, sentNowhere] = await Promise.all([explain(nowhere), send(nowhere)]);
    expect(sentNowhere.status).toBe(404);
    expect([explainedNowhere.status, explainedNowhere.body]).toEqual([sentNowhere.status, sentNowhere.body]);

    // A group's own chain is unchanged; only the fallbacks it does not hold yet follow it.
    const group = await explain({ model: 'smart', fallbacks: ['m2', 'smart', 'm3'] });
    expect(outcomes(group.body.chain)).toEqual([['smart', 'sim'], ['m2', 'sim']]);
    expect(outcomes(group.body.client_fallbacks)).toEqual([['m3', 'sim']]);
    expect((await explain({ model: 'm1', fallbacks: ['m1'] })).body).toMatchObject({ target: 'sim', client_fallbacks: [] });
    // Without fallbacks (or with none), the answer is as it was.
    for (const fallbacks of [undefined, null, []]) expect((await explain({ model: 'm1', fallbacks })).body).not.toHaveProperty('client_fallbacks');
    expect((await explain({ model: 'nope' })).status).toBe(404);
  });

  it("refuses what the request refuses: a fallback off the key's list, a malformed list", async () => {
    for (const fallbacks of [['m2'], ['nope'], ['m1', 'm3']]) {
      const [explained, sent] = await Promise.all([explain({ model: 'm1', fallbacks }, m1Only), send({ model: 'm1', fallbacks }, m1Only)]);
      expect(sent.status, String(fallbacks)).toBe(403);
      expect(sent.body.error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
      expect([explained.status, explained.body], String(fallbacks)).toEqual([sent.status, sent.body]);
    }
    expect((await explain({ model: 'm1', fallbacks: ['m1'] }, m1Only)).body).toMatchObject({ target: 'sim', client_fallbacks: [] });
    for (const fallbacks of ['m2', [''], [3], ['m\u0007'], Array.from({ length: 9 }, (_, i) => `m${i}`)]) {
      const [explained, sent] = await Promise.all([explain({ model: 'm1', fallbacks }), send({ model: 'm1', fallbacks })]);
      expect(sent.status, JSON.stringify(fallbacks)).toBe(400);
      expect(sent.body.error).toMatchObject({ param: 'fallbacks', code: 'invalid_value' });
      assertConforms('ErrorResponse', explained.body);
      expect([explained.status, explained.body], JSON.stringify(fallbacks)).toEqual([sent.status, sent.body]);
    }
  });

  it('switchyard route --prompt --fallbacks prints each fallback after the model, as a group prints its chain', async () => {
    const route = (...args: string[]) => runCli(['route', ...args, '--prompt', 'hi', '--url', url], env);
    const printed = await route('zephyr-beta', '--fallbacks', 'nope, m2');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^zephyr-beta → broken {2}\(policy /);
    expect(printed.stdout).toContain("client fallback: nope\n  nope (weight 1)\n    resolved: no registry entry");
    expect(printed.stdout).toMatch(/\n {4}result: 404 .*nope/);
    expect(printed.stdout).toMatch(/client fallback: m2\n {2}m2 \(weight 1\) → sim {2}\(policy /);
    const unknownFirst = await route('nope', '--fallbacks', 'm1');
    expect(unknownFirst.code).toBe(0);
    expect(unknownFirst.stdout).toMatch(/^nope\n {2}resolved: no registry entry.*\n {2}result: 404 /);
    expect(unknownFirst.stdout).toContain('client fallback: m1\n  m1 (weight 1) → sim');
    const json = JSON.parse((await route('nope', '--fallbacks', 'm1', '--json')).stdout) as { client_fallbacks: unknown[] };
    expect(json.client_fallbacks).toHaveLength(1);
    const limited = await route('m1', '--fallbacks', 'm2', '--token', m1Only);
    expect(limited.code).toBe(2);
    expect(limited.stderr).toContain("may not use the model 'm2'");
    expect((await runCli(['route', 'm1', '--fallbacks', 'm2'], env)).stderr).toContain("'--fallbacks <models>' needs --prompt");
  });
});

describe("the provider router's agents: /register and /heartbeat as its local agent sends them", () => {
  it('answers both with {"status": "ok"} as the replaced router did, and routes the models to the agent', async () => {
    const agent = await startFakeOpenAi(['local_mistral-7b-instruct-q4']);
    const router = await startRouter({ services: [] }, NO_PROVIDER_ENV);
    const post = async (path: string, body: unknown) => (await fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
    // The replaced router's reference agent: AGENT_ENDPOINT with no path, MODEL_LIST split on commas.
    expect(await post('/register', { name: 'local-agent', endpoint: agent.url, models: ['local_mistral-7b-instruct-q4'] })).toMatchObject({ status: 'ok' });
    expect(await post('/heartbeat', { name: 'local-agent' })).toMatchObject({ status: 'ok' });
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: 'local_mistral-7b-instruct-q4', messages: [{ role: 'user', content: 'hi' }] });
    expect(agent.received.at(-1)).toMatchObject({ url: '/v1/chat/completions' });
    await agent.close();
  });
});

describe("the provider router's database (data/models.db): taken over as it is", () => {
  /** The replaced router's tables as SQLAlchemy created them, with rows its CLI and /register wrote. */
  const replacedRouterDatabase = (path: string, endpoint: string, { withKind = true } = {}) => {
    const db = new Database(path);
    db.exec(`CREATE TABLE models (id INTEGER NOT NULL, name VARCHAR NOT NULL, type VARCHAR NOT NULL, endpoint VARCHAR NOT NULL${withKind ? ", kind VARCHAR DEFAULT 'api' NOT NULL" : ''}, PRIMARY KEY (id), UNIQUE (name));
      CREATE TABLE agents (id INTEGER NOT NULL, name VARCHAR NOT NULL, endpoint VARCHAR NOT NULL, models VARCHAR NOT NULL, last_heartbeat FLOAT NOT NULL, PRIMARY KEY (id), UNIQUE (name));`);
    const addModel = db.prepare(`INSERT INTO models (name, type, endpoint${withKind ? ', kind' : ''}) VALUES (?, ?, ?${withKind ? ", 'weight'" : ''})`);
    addModel.run('my-llama', 'local', endpoint);
    addModel.run('local_mistral-7b-instruct-q4', 'local', endpoint);
    db.prepare('INSERT INTO agents (name, endpoint, models, last_heartbeat) VALUES (?, ?, ?, ?)').run('local-agent', endpoint, 'local_mistral-7b-instruct-q4,local_phi', Date.now() / 1000);
    db.close();
  };

  it('carries its registry entries and agents over, keeping a copy of the file as it was', async () => {
    const agent = await startFakeOpenAi(['my-llama']);
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-replaced-db-'));
    const path = join(dir, 'models.db');
    replacedRouterDatabase(path, agent.url);
    const router = await startRouter({ services: [] }, { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: path });
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: 'my-llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(agent.received.at(-1)).toMatchObject({ url: '/v1/chat/completions', body: { model: 'my-llama' } });
    const { services } = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string; healthy: boolean; models: string[] }> };
    expect(services.find((s) => s.name === 'local-agent')).toMatchObject({ healthy: true, models: ['local_mistral-7b-instruct-q4', 'local_phi'] });
    expect(existsSync(`${path}.before-switchyard`)).toBe(true);
    await agent.close();
  });

  it('takes an older file without the kind column too (the CLI opens it the same way)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-replaced-db-'));
    replacedRouterDatabase(join(dir, 'models.db'), 'http://127.0.0.1:9', { withKind: false });
    const listed = await runCli(['models', 'list', '--json'], { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(dir, 'models.db') }, dir);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string; kind: string }>).map(({ name, kind }) => [name, kind])).toEqual([
      ['local_mistral-7b-instruct-q4', 'api'],
      ['my-llama', 'api'],
    ]);
  });
});
