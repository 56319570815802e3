import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { startFakeOpenAi, type FakeOpenAi } from './support/fake-openai.js';
import { chatAnswer, errorReply, startFakeProvider } from './support/fake-provider.js';
import { postJson } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, stopAll, waitFor, type Proc } from './support/processes.js';

const OPENAI_KEY = 'sk-test-openai-7f3a9c';
const OPENROUTER_KEY = 'sk-or-test-41d2e8';
const GROK_KEY = 'xai-test-b6c1f0';
const SECRETS = [OPENAI_KEY, OPENROUTER_KEY, GROK_KEY];

describe('OpenAI-compatible providers, prefix rules and missing keys', () => {
  let fake: FakeOpenAi;
  let router: Proc;
  let client: OpenAI;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    env = {
      ...NO_PROVIDER_ENV,
      OPENAI_BASE_URL: `${fake.url}/v1`,
      EXTERNAL_OPENAI_KEY: OPENAI_KEY,
      OPENROUTER_BASE_URL: `${fake.url}/api/v1`,
      EXTERNAL_OPENROUTER_KEY: OPENROUTER_KEY,
      LOCAL_AGENT_URL: fake.url,
      TEST_GROK_KEY: GROK_KEY,
    };
    // Grok is configured in the YAML, its key through ${VAR} expansion.
    router = await startRouter({ services: [], providers: { grok: { base_url: `${fake.url}/grok/v1`, api_key: '${TEST_GROK_KEY}' } } }, env);
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-own-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  const last = () => fake.received.at(-1)!;

  it('passes gpt-* through to OpenAI with the key injected, the client key withheld and unsupported parameters dropped', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello' }],
      temperature: 0.2,
      // @ts-expect-error parameters of other providers that OpenAI rejects
      top_k: 40,
      repetition_penalty: 1.1,
    });
    assertConforms('CreateChatCompletionResponse', completion);
    expect(last()).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(last().headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(last().body).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], temperature: 0.2 });
  });

  it('relays a streamed answer from a provider', async () => {
    const stream = await client.chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'hello' }], stream: true });
    const chunks = [];
    for await (const chunk of stream) {
      assertConforms('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('hi');
    expect(last().headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('sends openrouter/… to OpenRouter under the provider’s own model name, keeping parameters it accepts', async () => {
    const { data, response } = await client.chat.completions
      // @ts-expect-error top_k is an OpenRouter parameter
      .create({ model: 'openrouter/meta-llama/llama-3-8b', messages: [{ role: 'user', content: 'hi' }], top_k: 5 })
      .withResponse();
    expect(response.headers.get('x-switchyard-target')).toBe('provider:openrouter');
    expect(data.model).toBe('meta-llama/llama-3-8b');
    expect(last()).toMatchObject({ url: '/api/v1/chat/completions' });
    expect(last().headers.authorization).toBe(`Bearer ${OPENROUTER_KEY}`);
    expect(last().body).toMatchObject({ model: 'meta-llama/llama-3-8b', top_k: 5 });
  });

  it('counts traffic a prefix rule routed under the model asked for, in metrics and the request log', async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'prefix-routed' } });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_requests_total', { model: 'gpt-4o-mini', target: 'provider:openai', status: '200' })).toBeGreaterThanOrEqual(1);
    const row = await waitFor(async () => {
      const { data } = (await (await fetch(`${router.url}/admin/requests?since=0`)).json()) as { data: Array<{ requestId: string; model: string }> };
      return data.find((r) => r.requestId === 'prefix-routed');
    }, 'the request log row');
    expect(row.model).toBe('gpt-4o-mini');
  });

  it("sends a Messages API request to OpenAI with max_completion_tokens (its reasoning models refuse max_tokens), to other targets with max_tokens", async () => {
    const ask = (model: string) => postJson(`${router.url}/v1/messages`, { model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const answered = await ask('o3-mini');
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'hi' }] });
    expect(last()).toMatchObject({ url: '/v1/chat/completions', body: { model: 'o3-mini', max_completion_tokens: 64 } });
    expect(last().body).not.toHaveProperty('max_tokens');
    for (const model of ['grok-2', 'local-llama']) {
      expect((await ask(model)).status).toBe(200);
      expect(last().body, model).toMatchObject({ model, max_tokens: 64 });
      expect(last().body, model).not.toHaveProperty('max_completion_tokens');
    }
  });

  it("sends a chat request's max_tokens to OpenAI's reasoning models as max_completion_tokens (they refuse max_tokens), to its other models and other providers as sent", async () => {
    const ask = (model: string, limits: { max_tokens?: number; max_completion_tokens?: number }, stream = false) =>
      postJson(`${router.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], stream, ...limits });
    for (const model of ['o1', 'o3-mini', 'o4-mini-2025-04-16', 'gpt-5', 'gpt-5-mini', 'gpt-5.1']) {
      for (const stream of [false, true]) {
        expect((await ask(model, { max_tokens: 64 }, stream)).status, model).toBe(200);
        expect(last().body, model).toMatchObject({ model, max_completion_tokens: 64 });
        expect(last().body, model).not.toHaveProperty('max_tokens');
      }
    }
    // One that sets both is sent as it is, for OpenAI to judge.
    await ask('o3', { max_tokens: 64, max_completion_tokens: 32 });
    expect(last().body).toMatchObject({ max_tokens: 64, max_completion_tokens: 32 });
    for (const model of ['gpt-4o-mini', 'gpt-4.1', 'gpt-50x', 'grok-3-mini', 'local-o3']) {
      expect((await ask(model, { max_tokens: 64 })).status, model).toBe(200);
      expect(last().body, model).toMatchObject({ max_tokens: 64 });
      expect(last().body, model).not.toHaveProperty('max_completion_tokens');
    }
  });

  it("sends the reasoning_effort of a Messages API request's thinking to the models that take it, not to OpenAI's or xAI's models that refuse it", async () => {
    const ask = (model: string) => postJson(`${router.url}/v1/messages`, { model, max_tokens: 5000, thinking: { type: 'enabled', budget_tokens: 4096 }, messages: [{ role: 'user', content: 'hi' }] });
    for (const model of ['o3-mini', 'gpt-5.1', 'grok-3-mini', 'grok-4.3', 'grok-4.5-latest', 'local-llama']) {
      expect((await ask(model)).status, model).toBe(200);
      expect(last().body, model).toMatchObject({ model, reasoning_effort: 'high' });
    }
    for (const model of ['gpt-4o-mini', 'gpt-4.1']) {
      expect((await ask(model)).status, model).toBe(200);
      expect(last().body, model).toMatchObject({ model, max_completion_tokens: 5000 });
      expect(last().body, model).not.toHaveProperty('reasoning_effort');
    }
    // xAI's models take max_tokens whichever they are.
    for (const model of ['grok-4', 'grok-4-1-fast-reasoning', 'grok-4.20-reasoning', 'grok-code-fast-1']) {
      expect((await ask(model)).status, model).toBe(200);
      expect(last().body, model).toMatchObject({ model, max_tokens: 5000 });
      expect(last().body, model).not.toHaveProperty('reasoning_effort');
      expect(last().body, model).not.toHaveProperty('max_completion_tokens');
    }
  });

  it("drops a chat request's reasoning_effort for OpenAI's and xAI's models that refuse it; others get it as sent", async () => {
    const ask = (model: string, stream = false) => postJson(`${router.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'minimal', stream });
    for (const stream of [false, true]) {
      expect((await ask('gpt-4o-mini', stream)).status).toBe(200);
      expect(last().body).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream });
    }
    for (const model of ['o4-mini', 'gpt-5-mini', 'grok-3-mini', 'local-llama']) {
      expect((await ask(model)).status, model).toBe(200);
      expect(last().body, model).toMatchObject({ model, reasoning_effort: 'minimal' });
    }
    for (const model of ['grok-2', 'grok-4']) {
      expect((await ask(model)).status, model).toBe(200);
      expect(last().body, model).toEqual({ model, messages: [{ role: 'user', content: 'hi' }], stream: false });
    }
  });

  it("keeps OpenRouter's own models (openrouter/<name>) whole", async () => {
    await client.chat.completions.create({ model: 'openrouter/auto', messages: [{ role: 'user', content: 'hi' }] });
    expect(last().body).toMatchObject({ model: 'openrouter/auto' });
  });

  it('takes provider settings from the YAML providers section with ${VAR} expansion', async () => {
    await client.chat.completions.create({ model: 'grok-2', messages: [{ role: 'user', content: 'hi' }] });
    expect(last()).toMatchObject({ url: '/grok/v1/chat/completions', body: { model: 'grok-2' } });
    expect(last().headers.authorization).toBe(`Bearer ${GROK_KEY}`);
  });

  it('sends local* to LOCAL_AGENT_URL without any Authorization', async () => {
    await client.chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(last()).toMatchObject({ url: '/v1/chat/completions', body: { model: 'local-llama' } });
    expect(last().headers.authorization).toBeUndefined();
  });

  it('answers 503 naming the missing variable for a provider without its key', async () => {
    for (const [model, variable] of [
      ['claude-3-5-haiku', 'EXTERNAL_ANTHROPIC_KEY'],
      ['gemini-1.5-flash', 'EXTERNAL_GOOGLE_KEY'],
      ['google/gemma-2', 'EXTERNAL_GOOGLE_KEY'],
      ['venice-uncensored', 'EXTERNAL_VENICE_KEY'],
    ] as const) {
      const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(error, model).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect((error as Error).message).toContain(variable);
    }
  });

  it('retrieves by id a model a prefix rule routes, as chat completions take it, though the list cannot name every such model', async () => {
    const sent = fake.received.length;
    const retrieved = await client.models.retrieve('gpt-4o-mini');
    assertConforms('Model', retrieved);
    expect(retrieved).toMatchObject({ id: 'gpt-4o-mini', object: 'model', owned_by: 'provider:openai' });
    expect(await client.models.retrieve('openrouter/meta-llama/llama-3-8b')).toMatchObject({ id: 'openrouter/meta-llama/llama-3-8b', owned_by: 'provider:openrouter' });
    // What a request for the name would get otherwise: a provider without its key, a prefix without its provider, no rule at all.
    await expect(client.models.retrieve('claude-3-5-haiku')).rejects.toMatchObject({ status: 503, code: 'provider_not_configured' });
    for (const model of ['llmd-granite', 'no-such-model']) await expect(client.models.retrieve(model)).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    expect((await fetch(`${router.url}/v1/models/gpt-${'x'.repeat(300)}`)).status).toBe(400);
    expect((await client.models.list()).data.map((model) => model.id)).not.toContain('gpt-4o-mini');
    // Retrieving asks no provider anything.
    expect(fake.received.length).toBe(sent);
  });

  it('answers 404 naming the model when nothing matches (llmd-* without LLMD_ENDPOINT included)', async () => {
    for (const model of ['no-such-model', 'llmd-granite']) {
      const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
      expect((error as Error).message).toContain(model);
    }
  });

  it('warns once at start-up about each provider without a key, and never shows keys in /services, /stats, /metrics or logs', async () => {
    const warnings = router.lines.filter((line) => line.includes('without an API key'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('anthropic (EXTERNAL_ANTHROPIC_KEY)');
    expect(warnings[0]).not.toContain('EXTERNAL_OPENAI_KEY');
    const services = await (await fetch(`${router.url}/services`)).text();
    expect(services).toContain('provider:openai');
    const exposed = [services, await (await fetch(`${router.url}/stats`)).text(), await (await fetch(`${router.url}/metrics`)).text(), router.lines.join('\n')].join('\n');
    for (const secret of SECRETS) expect(exposed).not.toContain(secret);
  });

  it('`switchyard route` explains the target without sending anything', async () => {
    const before = fake.received.length;
    const routed = await runCli(['route', 'openrouter/meta-llama/llama-3-8b', '--json'], env);
    expect(routed.code).toBe(0);
    expect(JSON.parse(routed.stdout)).toMatchObject({
      routable: true,
      rule: 'openrouter* → openrouter',
      targets: [{ name: 'provider:openrouter', kind: 'provider', upstream_model: 'meta-llama/llama-3-8b' }],
    });
    const text = await runCli(['route', 'gpt-4o'], env);
    expect(text.stdout).toMatch(/rule:\s+gpt-\* → openai/);
    expect(text.stdout).toMatch(/target:\s+provider:openai/);
    const missingKey = await runCli(['route', 'claude-3-opus'], env);
    expect(missingKey.code).toBe(1);
    expect(missingKey.stdout).toContain('503');
    expect(missingKey.stdout).toContain('EXTERNAL_ANTHROPIC_KEY');
    const unknown = await runCli(['route', 'no-such-model'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('404');
    for (const secret of SECRETS) expect(routed.stdout + text.stdout).not.toContain(secret);
    expect(fake.received.length).toBe(before);
  });
});

describe('a model group whose target names a hosted provider', () => {
  afterAll(stopAll);

  it('takes the provider by its own name (service: openai) as by its target name (provider:openai)', async () => {
    const fake = await startFakeOpenAi(['gpt-4o']);
    try {
      const env = { ...NO_PROVIDER_ENV, OPENAI_BASE_URL: `${fake.url}/v1`, EXTERNAL_OPENAI_KEY: OPENAI_KEY };
      const groups = {
        smart: { targets: [{ model: 'gpt-4o', service: 'openai' }] },
        smarter: { targets: [{ model: 'gpt-4o', service: 'provider:openai' }] },
        thinker: { targets: [{ model: 'o3', service: 'openai' }] },
      };
      const router = await startRouter({ services: [], model_groups: groups }, env);
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      for (const model of ['smart', 'smarter']) {
        const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        expect(response.headers.get('x-switchyard-target')).toBe('provider:openai');
      }
      // The model OpenAI is asked for decides, not the group's name: o3 refuses max_tokens.
      await client.chat.completions.create({ model: 'thinker', messages: [{ role: 'user', content: 'hi' }], max_tokens: 64 });
      expect(fake.received.at(-1)!.body).toMatchObject({ model: 'o3', max_completion_tokens: 64 });
      expect(fake.received.at(-1)!.body).not.toHaveProperty('max_tokens');
    } finally {
      await fake.close();
    }
  });
});

describe('a self-hosted engine serving a model named like an OpenAI reasoning model', () => {
  afterAll(stopAll);

  it("gets the client's max_tokens as sent: an engine's body goes upstream byte for byte", async () => {
    const engine = await startFakeOpenAi(['o3-mini']);
    try {
      const router = await startRouter({ services: [{ name: 'engine', url: engine.url, models: ['o3-mini'] }] }, { ...NO_PROVIDER_ENV });
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const { response } = await client.chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 64 }).withResponse();
      expect(response.headers.get('x-switchyard-target')).toBe('engine');
      expect(engine.received.at(-1)!.body).toMatchObject({ model: 'o3-mini', max_tokens: 64 });
      expect(engine.received.at(-1)!.body).not.toHaveProperty('max_completion_tokens');
    } finally {
      await engine.close();
    }
  });
});

describe('a hosted provider answering 429 for one model', () => {
  afterAll(stopAll);

  it('relays its errors and never benches the provider: its other models keep answering', async () => {
    const fake = await startFakeProvider(({ body }) =>
      body.model === 'gpt-limited' ? errorReply(429, { message: 'Rate limit reached for gpt-limited', type: 'requests', code: 'rate_limit_exceeded' }) : chatAnswer(String(body.model)),
    );
    try {
      const env = { ...NO_PROVIDER_ENV, OPENAI_BASE_URL: `${fake.url}/v1`, EXTERNAL_OPENAI_KEY: OPENAI_KEY };
      const router = await startRouter({ services: [], retry: { max_attempts: 1 }, cooldown: { failure_threshold: 2, window_s: 60, cooldown_s: 60 } }, env);
      const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      for (let i = 0; i < 4; i++) {
        const failure = await client.chat.completions.create({ model: 'gpt-limited', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(OpenAI.RateLimitError);
        expect((failure as Error).message).toContain('Rate limit reached for gpt-limited');
      }
      expect((await client.chat.completions.create({ model: 'gpt-other', messages: [{ role: 'user', content: 'hi' }] })).choices[0]!.message.content).toBe('ok');
    } finally {
      await fake.close();
    }
  });
});
