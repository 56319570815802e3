import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatAnswer, errorReply, startFakeProvider, type FakeProvider, type FakeReply } from './support/fake-provider.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
const ask = { messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 4 };

/** Each trigger's failing upstream: one fake provider per trigger, so their failures stay apart. */
const TRIGGERS: Record<string, FakeReply> = {
  'fb-429': errorReply(429, { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }, { 'retry-after-ms': '5' }),
  'fb-500': errorReply(500, { message: 'internal', type: 'server_error' }),
  'fb-ctx-vllm': { status: 400, body: JSON.stringify({ object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens.", type: 'BadRequestError', param: null, code: 400 }) },
  'fb-ctx-openai': errorReply(400, { message: 'too long', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' }),
  'fb-ctx-anthropic': { status: 400, body: JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } }) },
  'fb-policy': errorReply(400, { message: 'rejected by our safety system', type: 'invalid_request_error', code: 'content_policy_violation' }),
  'fb-conn': { status: 0, body: '', hangUp: true },
  'fb-filtered': {
    status: 200,
    body: JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'fb-filtered', choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }] }),
  },
  'fb-plain-400': errorReply(400, { message: "Invalid 'temperature'", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' }),
};
const EXPECTED_TRIGGER: Record<string, string> = {
  'fb-429': 'rate_limit',
  'fb-500': 'server_error',
  'fb-ctx-vllm': 'context_window',
  'fb-ctx-openai': 'context_window',
  'fb-ctx-anthropic': 'context_window',
  'fb-policy': 'content_policy',
  'fb-conn': 'connection',
  'fb-filtered': 'content_policy',
};

describe('retries and fallbacks across engines and providers', () => {
  let router: Proc;
  let strict: Proc;
  let backup: Proc;
  let client: OpenAI;
  const fakes: Record<string, FakeProvider> = {};
  let slow: FakeProvider;
  let once429: FakeProvider;
  let truncating: FakeProvider;

  beforeAll(async () => {
    backup = await startSim({ models: ['backup', 'fb-split'], ttftMs: 1 });
    for (const [model, reply] of Object.entries(TRIGGERS)) fakes[model] = await startFakeProvider(() => reply);
    slow = await startFakeProvider(async () => {
      await new Promise((r) => setTimeout(r, 3000));
      return chatAnswer('fb-timeout');
    });
    let calls = 0;
    once429 = await startFakeProvider(() => (++calls === 1 ? errorReply(429, { message: 'slow down' }, { 'retry-after-ms': '250' }) : chatAnswer('retry-after', 'second try')));
    truncating = await startFakeProvider(() => ({ status: 200, body: '', chunks: ['data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"trunc","choices":[{"index":0,"delta":{"content":"par"},"finish_reason":null}]}\n\n'] }));
    const services = [
      { name: 'backup-sim', url: backup.url },
      ...Object.keys(fakes).map((model) => ({ name: `svc-${model}`, url: fakes[model]!.url, models: [model] })),
      { name: 'svc-timeout', url: slow.url, models: ['fb-timeout'] },
      { name: 'svc-retry-after', url: once429.url, models: ['retry-after'] },
      { name: 'svc-trunc', url: truncating.url, models: ['trunc'] },
    ];
    const groups = Object.fromEntries([...Object.keys(fakes), 'fb-timeout', 'trunc'].map((model) => [model, { fallbacks: ['backup'] }]));
    const common = {
      services,
      health_check: { failure_threshold: 1000 },
      cooldown: { failure_threshold: 1000 },
      retry: { max_attempts: 3, backoff_base_ms: 5, attempt_timeout_s: 0.3 },
    };
    [router, strict] = await Promise.all([
      startRouter({ ...common, model_groups: { ...groups, grouped: { targets: [{ model: 'fb-500', weight: 1 }, { model: 'fb-split', weight: 1 }] } } }, { SQLITE_DB_PATH: tempDb() }),
      startRouter({ ...common, model_groups: groups, fallback: { on: ['server_error'] } }, { SQLITE_DB_PATH: tempDb() }),
    ]);
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await Promise.all([...Object.values(fakes), slow, once429, truncating].map((f) => f.close()));
  });

  for (const [model, trigger] of Object.entries({ ...EXPECTED_TRIGGER, 'fb-timeout': 'timeout' })) {
    it(`falls back on ${trigger} (${model}) and says which target served`, async () => {
      const { data, response } = await client.chat.completions.create({ model, ...ask }).withResponse();
      expect(data.model).toBe('backup');
      expect(response.headers.get('x-switchyard-target')).toBe('backup-sim');
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      expect(metrics).toContain(`switchyard_fallbacks_total{from="${model}",to="backup",trigger="${trigger}"}`);
    });
  }

  it('retries a failing target a bounded number of times before falling back', async () => {
    const before = fakes['fb-500']!.requests;
    await client.chat.completions.create({ model: 'fb-500', ...ask });
    expect(fakes['fb-500']!.requests - before).toBe(3);
  });

  it('does not retry or fall back on an ordinary client error; relays it as given', async () => {
    const before = fakes['fb-plain-400']!.requests;
    const error = await client.chat.completions.create({ model: 'fb-plain-400', ...ask }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_value');
    expect(fakes['fb-plain-400']!.requests - before).toBe(1);
  });

  it('honours retry-after-ms and succeeds on the same target', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'retry-after', ...ask }).withResponse();
    expect(data.choices[0]!.message.content).toBe('second try');
    expect(response.headers.get('x-switchyard-target')).toBe('svc-retry-after');
    expect(once429.requests).toBe(2);
    // The 250 ms the upstream asked for is its time, not the router's own.
    expect(Number(response.headers.get('x-switchyard-overhead-ms'))).toBeLessThan(250);
  });

  it('only falls back on configured triggers', async () => {
    const strictClient = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const error = await strictClient.chat.completions.create({ model: 'fb-429', ...ask }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const served = await strictClient.chat.completions.create({ model: 'fb-500', ...ask });
    expect(served.model).toBe('backup');
  });

  it('lists model groups as models', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toContain('grouped');
    expect(ids).toContain('backup');
    expect((await client.models.retrieve('grouped')).id).toBe('grouped');
  });

  it('routes a model group over its weighted targets, skipping the failing one', async () => {
    for (let i = 0; i < 4; i++) {
      const { data, response } = await client.chat.completions.create({ model: 'grouped', ...ask }).withResponse();
      expect(data.model).toBe('fb-split');
      expect(response.headers.get('x-switchyard-target')).toBe('backup-sim');
    }
  });

  it('never falls back once bytes reached the client, and never truncates a stream silently', async () => {
    const before = truncating.requests;
    const stream = await client.chat.completions.create({ model: 'trunc', ...ask, stream: true });
    const read = async () => {
      for await (const chunk of stream) void chunk;
    };
    await expect(read()).rejects.toThrow(/without \[DONE\]/);
    expect(truncating.requests - before).toBe(1);
  });
});
