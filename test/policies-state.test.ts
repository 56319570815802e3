import { describe, expect, it } from 'vitest';
import { backoffMs, classifyAnswer, classifyError, classifyStatus, retryAfter } from '../src/gateway/failure.js';
import { RateLimitStage } from '../src/gateway/rate-limit.js';
import { canonicalJson, ResponseCacheStage } from '../src/gateway/response-cache.js';
import { spendUsd } from '../src/gateway/spend.js';
import { estimatedUsage } from '../src/gateway/token-estimate.js';
import { Fleet } from '../src/fleet/fleet.js';
import { createLogger } from '../src/observability/logger.js';
import { AgentRegistry } from '../src/registry/agent-registry.js';
import { CooldownBoard, createMemoryState, MemoryCooldowns, MemoryRateLimiter, MemoryResponseCache, MemoryRevocations } from '../src/state/memory-state.js';
import { AgentRepository } from '../src/store/agents.js';
import { openDatabase } from '../src/store/database.js';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const chatRequest = (body: Record<string, unknown>) =>
  ({ id: 'r', endpoint: 'chat', model: 'm', stream: false, body, raw: Buffer.from(JSON.stringify(body)), headers: {}, startedAt: 0 }) as const;

describe('memory rate limiter', () => {
  it('admits exactly the limit within a window and names the refusing counter with the time left', async () => {
    const limiter = new MemoryRateLimiter();
    const results = Array.from({ length: 8 }, () => limiter.charge([{ counter: 'rpm:a', limit: 5, cost: 1 }]));
    expect(results.filter((r) => r.admitted)).toHaveLength(5);
    const refused = results.find((r) => !r.admitted);
    expect(refused).toMatchObject({ admitted: false, counter: 'rpm:a' });
    expect(refused && 'retryAfterMs' in refused && refused.retryAfterMs).toBeGreaterThan(0);
  });

  it('charges all counters or none', async () => {
    const limiter = new MemoryRateLimiter();
    limiter.charge([{ counter: 'tpm:m', limit: 10, cost: 9 }]);
    const refused = limiter.charge([
      { counter: 'rpm:k', limit: 100, cost: 1 },
      { counter: 'tpm:m', limit: 10, cost: 5 },
    ]);
    expect(refused).toMatchObject({ admitted: false, counter: 'tpm:m' });
    // rpm:k was not charged by the refused request: 100 more fit.
    const admitted = limiter.charge([{ counter: 'rpm:k', limit: 100, cost: 100 }]);
    expect(admitted.admitted).toBe(true);
  });

  it('corrects a reservation by the real count', async () => {
    const limiter = new MemoryRateLimiter();
    limiter.charge([{ counter: 'tpm:k', limit: 100, cost: 90 }]);
    expect((limiter.charge([{ counter: 'tpm:k', limit: 100, cost: 20 }])).admitted).toBe(false);
    limiter.adjust({ counters: ['tpm:k'], deltas: [-80] });
    expect((limiter.charge([{ counter: 'tpm:k', limit: 100, cost: 20 }])).admitted).toBe(true);
  });
});

describe('memory cooldowns', () => {
  it('benches after the threshold, then lets exactly one probe through, which recovers or re-benches', async () => {
    const board = new CooldownBoard();
    const cooldowns = new MemoryCooldowns(board, { failureThreshold: 3, windowS: 60, cooldownS: 0.05 });
    await cooldowns.recordFailure('t');
    await cooldowns.recordFailure('t');
    expect(cooldowns.view('t').state).toBe('ok');
    await cooldowns.recordFailure('t');
    expect(cooldowns.view('t').state).not.toBe('ok');
    await new Promise((r) => setTimeout(r, 60));
    expect(cooldowns.view('t').state).toBe('probing');
    expect(await cooldowns.claimProbe('t')).toBe(true);
    expect(await cooldowns.claimProbe('t')).toBe(false);
    // A failed probe benches at once.
    await cooldowns.recordFailure('t');
    await new Promise((r) => setTimeout(r, 60));
    expect(await cooldowns.claimProbe('t')).toBe(true);
    await cooldowns.recordProbeSuccess('t');
    expect(cooldowns.view('t').state).toBe('ok');
  });

  it('a probe released without a verdict can be claimed again at once', async () => {
    const cooldowns = new MemoryCooldowns(new CooldownBoard(), { failureThreshold: 1, windowS: 60, cooldownS: 0.05 });
    await cooldowns.recordFailure('t');
    await new Promise((r) => setTimeout(r, 60));
    expect(await cooldowns.claimProbe('t')).toBe(true);
    await cooldowns.releaseProbe('t');
    expect(cooldowns.view('t').state).toBe('probing');
    expect(await cooldowns.claimProbe('t')).toBe(true);
  });

  it('a probe claim whose holder never reports lapses after the cooling period', async () => {
    const cooldowns = new MemoryCooldowns(new CooldownBoard(), { failureThreshold: 1, windowS: 60, cooldownS: 0.05 });
    await cooldowns.recordFailure('t');
    await new Promise((r) => setTimeout(r, 60));
    expect(await cooldowns.claimProbe('t')).toBe(true);
    expect(await cooldowns.claimProbe('t')).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(await cooldowns.claimProbe('t')).toBe(true);
  });

  it('a long cooldown keeps the target benched', async () => {
    const cooldowns = new MemoryCooldowns(new CooldownBoard(), { failureThreshold: 1, windowS: 60, cooldownS: 60 });
    await cooldowns.recordFailure('t');
    expect(cooldowns.view('t').state).toBe('benched');
    expect(await cooldowns.claimProbe('t')).toBe(false);
  });
});

describe('cooldowns of departed agents', () => {
  it('are dropped with an agent retired or forgotten, so that names coming and going do not pile up', async () => {
    const fleet = new Fleet(100);
    const state = createMemoryState({ failureThreshold: 2, windowS: 60, cooldownS: 60 });
    const agents = new AgentRegistry(fleet, new AgentRepository(openDatabase(':memory:')), { heartbeatTimeoutS: 1, forgetAfterS: 2, maxAgents: 1000 }, createLogger('silent'));
    agents.share(state);
    const agent = (name: string) => ({ name, endpoint: 'http://127.0.0.1:1', models: ['m'] });

    await agents.register(agent('benched'));
    await state.cooldowns.recordFailure('benched');
    await state.cooldowns.recordFailure('benched');
    expect(state.cooldowns.view('benched').state).toBe('benched');
    await agents.retire('benched');
    expect(state.cooldowns.view('benched').state).toBe('ok');

    const now = Date.now();
    await agents.register(agent('failed-once'), now);
    await state.cooldowns.recordFailure('failed-once');
    agents.expire(now + 3000);
    expect(fleet.get('failed-once')).toBeUndefined();
    // Its earlier failure was forgotten with it: one more does not reach the threshold of two.
    await state.cooldowns.recordFailure('failed-once');
    expect(state.cooldowns.view('failed-once').state).toBe('ok');
  });
});

describe('memory cache and revocations', () => {
  it('expires entries and evicts the oldest when full', async () => {
    const cache = new MemoryResponseCache({ maxEntries: 2, maxBytes: 1000 });
    const value = { status: 200, contentType: 'application/json', chunks: ['{}'], target: 'a' };
    cache.set({ key: 'gone', value, ttlS: 0.001, bytes: 2 });
    await new Promise((r) => setTimeout(r, 5));
    expect(cache.get('gone')).toBeUndefined();
    for (const key of ['a', 'b', 'c']) cache.set({ key, value, ttlS: 60, bytes: 2 });
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toEqual(value);
  });

  it('holds at most max_bytes of answers in all, evicting the oldest, and never one larger than that', () => {
    const cache = new MemoryResponseCache({ maxEntries: 100, maxBytes: 10 });
    const set = (key: string, text: string) => cache.set({ key, value: { status: 200, contentType: 'application/json', chunks: [text], target: 'a' }, ttlS: 60, bytes: text.length });
    set('a', '1234');
    set('b', '1234');
    set('c', '1234');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    // Replacing an entry frees its old size first.
    set('c', '12');
    set('d', '1234');
    expect(cache.get('b')).toBeDefined();
    set('huge', 'x'.repeat(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('d')).toBeDefined();
  });

  it('counts max_bytes in UTF-8 bytes of the answers as relayed, not in characters', async () => {
    const stage = new ResponseCacheStage({ enabled: true, ttlS: 60, maxEntryBytes: 1024 });
    const state = createMemoryState({ failureThreshold: 2, windowS: 60, cooldownS: 60 }, { maxEntries: 100, maxBytes: 30 });
    const store = async (prompt: string, ...chunks: Array<Buffer | string>) => {
      const plan = stage.plan(chatRequest({ model: 'm', temperature: 0, messages: [{ role: 'user', content: prompt }] }));
      for (const chunk of chunks) stage.collect(plan, chunk);
      await state.settle(undefined, stage.entry(plan, 'application/json', 't'));
      return (await state.admit([], plan.key)).cached;
    };
    // 12 characters, 36 bytes: larger than the whole cache.
    expect(await store('wide', '"日本語日本語日本語日本"')).toBeUndefined();
    expect(await store('wide, streamed', Buffer.from('"日本語日本'), Buffer.from('語日本語日本"'))).toBeUndefined();
    expect(await store('ascii', '"twelve chars"')).toBeDefined();
  });

  it('keeps a character whole when a stream chunk ends inside it', () => {
    const stage = new ResponseCacheStage({ enabled: true, ttlS: 60, maxEntryBytes: 1024 });
    const plan = stage.plan(chatRequest({ model: 'm', temperature: 0, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const stream = Buffer.from('data: {"content":"日本語"}\n\ndata: [DONE]\n\n');
    const cut = stream.indexOf(Buffer.from('本')) + 1;
    stage.collect(plan, stream.subarray(0, cut));
    stage.collect(plan, stream.subarray(cut));
    const entry = stage.entry(plan, 'text/event-stream', 't')!;
    expect(entry.value.chunks.join('')).toBe(stream.toString());
    expect(entry.bytes).toBe(stream.length);
  });

  it('remembers revoked key hashes', async () => {
    const revocations = new MemoryRevocations();
    await revocations.revoke('h');
    expect(revocations.isRevoked('h')).toBe(true);
    expect(revocations.isRevoked('other')).toBe(false);
  });
});

describe('failure classification', () => {
  it('recognises context-window errors of vLLM, OpenAI and Anthropic', () => {
    const vllm = body({ object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.", type: 'BadRequestError', param: null, code: 400 });
    const openai = body({ error: { message: 'too long', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
    const anthropic = body({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } });
    for (const answer of [vllm, openai, anthropic]) expect(classifyStatus(400, {}, answer)?.trigger).toBe('context_window');
  });

  it('recognises content-policy refusals', () => {
    const openai = body({ error: { message: 'Your request was rejected', type: 'invalid_request_error', code: 'content_policy_violation' } });
    const azure = body({ error: { code: 'content_filter', message: 'The response was filtered' } });
    for (const answer of [openai, azure]) expect(classifyStatus(400, {}, answer)?.trigger).toBe('content_policy');
  });

  it('recognises answers cut off or refused by a content policy', () => {
    expect(classifyAnswer(body({ choices: [{ finish_reason: 'content_filter' }] }))?.trigger).toBe('content_policy');
    expect(classifyAnswer(body({ type: 'message', stop_reason: 'refusal', content: [] }))?.trigger).toBe('content_policy');
    expect(classifyAnswer(body({ candidates: [{ content: { parts: [] }, finishReason: 'SAFETY' }] }))?.trigger).toBe('content_policy');
    expect(classifyAnswer(body({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }))?.trigger).toBe('content_policy');
    expect(classifyAnswer(body({ candidates: [{ content: { parts: [{ text: '"finishReason": "SAFETY", "blockReason": 1' }] }, finishReason: 'STOP' }] }))).toBeUndefined();
    expect(classifyAnswer(body({ choices: [{ finish_reason: 'stop', message: { content: 'about content_filter' } }] }))).toBeUndefined();
  });

  it('classifies 429 and 5xx with their retry-after, and leaves other 4xx alone', () => {
    expect(classifyStatus(429, { 'retry-after-ms': '250' }, Buffer.alloc(0))).toMatchObject({ trigger: 'rate_limit', retryAfterMs: 250 });
    expect(classifyStatus(503, { 'retry-after': '2' }, Buffer.alloc(0))).toMatchObject({ trigger: 'server_error', retryAfterMs: 2000 });
    expect(classifyStatus(400, {}, body({ error: { message: 'bad temperature' } }))).toBeUndefined();
    expect(classifyStatus(404, {}, body({ error: { message: 'no such model' } }))).toBeUndefined();
  });

  it('tells timeouts from connection failures', () => {
    expect(classifyError(Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' })).trigger).toBe('timeout');
    expect(classifyError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).trigger).toBe('connection');
  });

  it('parses retry-after as seconds or an HTTP date and bounds backoff', () => {
    expect(retryAfter({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfter({ 'retry-after': new Date(Date.now() + 60_000).toUTCString() })).toBeGreaterThan(50_000);
    expect(retryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    for (let retry = 1; retry < 10; retry++) {
      const wait = backoffMs(retry, 100, 1000);
      expect(wait).toBeGreaterThanOrEqual(Math.min(1000, 100 * 2 ** (retry - 1)) / 2);
      expect(wait).toBeLessThanOrEqual(1000);
    }
  });
});

describe('cache key and spend', () => {
  it('normalises key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  it('caches a Responses API answer only on opt-in: at temperature 0 a stored response is still not a pure function of its request', () => {
    const stage = new ResponseCacheStage({ enabled: true, ttlS: 60, maxEntryBytes: 1 << 20 });
    const plan = (endpoint: 'chat' | 'responses', body: Record<string, unknown>) =>
      stage.plan({ id: 'r', endpoint, model: 'm', stream: false, body, raw: Buffer.from(JSON.stringify(body)), headers: {}, startedAt: 0 }).status;
    expect(plan('chat', { model: 'm', messages: [], temperature: 0 })).toBe('miss');
    expect(plan('responses', { model: 'm', input: 'hi', temperature: 0 })).toBe('bypass');
    expect(plan('responses', { model: 'm', input: 'hi', cache: true })).toBe('miss');
  });

  it('prices usage per million tokens', () => {
    const prices = { m: { input_per_million: 2, output_per_million: 10 } };
    expect(spendUsd(prices, 'm', { prompt_tokens: 1000, completion_tokens: 100 })).toBeCloseTo(0.003);
    expect(spendUsd(prices, 'unpriced', { prompt_tokens: 1000 })).toBe(0);
  });
});

describe('rate-limit stage', () => {
  const stage = new RateLimitStage({ defaultRpm: 60, models: { m: { rpm: 5, tpm: 1000 } }, defaultCompletionTokens: 100 });

  it('charges caller and model counters, reserving prompt bytes / 4 plus the answer cap', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 50 };
    const caller = { id: 'key:1', key: { id: '1', name: 'k', keyHash: 'h', prefix: 'p', spentUsd: 0, createdAt: '', revokedAt: null, tpm: 500 } };
    const { charges, reservation } = stage.plan(caller, { ...chatRequest(body) });
    const tokens = Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) + 50;
    expect(charges).toEqual([
      { counter: 'rpm:key:1', limit: 60, cost: 1 },
      { counter: 'rpm:model:m', limit: 5, cost: 1 },
      { counter: 'tpm:key:1', limit: 500, cost: tokens },
      { counter: 'tpm:model:m', limit: 1000, cost: tokens },
    ]);
    expect(stage.correction(reservation, 30)).toEqual({ counters: ['tpm:key:1', 'tpm:model:m'], deltas: [30 - tokens, 30 - tokens] });
    expect(stage.correction(reservation, tokens)).toBeUndefined();
  });

  it('takes a max_tokens that is no token count (negative, fractional, 1e999) for none: a negative one took tokens out of the window and the spend', () => {
    const prompt = (body: Record<string, unknown>) => Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4);
    for (const cap of [-1_000_000, 2.5, Infinity]) {
      const body = { model: 'm', messages: [], max_tokens: cap };
      const { charges } = stage.plan({ id: 'ip:x' }, chatRequest(body));
      expect(charges.find((charge) => charge.counter === 'tpm:model:m')!.cost, String(cap)).toBe(prompt(body) + 100);
      expect(estimatedUsage(chatRequest(body), 40).completion_tokens, String(cap)).toBe(40);
    }
  });

  it("reserves a Responses API request's max_output_tokens as its answer cap", () => {
    const body = { model: 'm', input: 'hi', max_output_tokens: 70 };
    const { charges } = stage.plan({ id: 'ip:x' }, { ...chatRequest(body), endpoint: 'responses' });
    expect(charges.find((charge) => charge.counter === 'tpm:model:m')!.cost).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) + 70);
  });

  it('answers a refusal with 429, retry-after and the OpenAI error shape', () => {
    const error = stage.refusal({ admitted: false, counter: 'tpm:model:m', retryAfterMs: 1500 })!;
    expect(error.status).toBe(429);
    expect(error.headers).toMatchObject({ 'retry-after': '2', 'retry-after-ms': '1500' });
    expect(error.toJSON().error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(stage.refusal({ admitted: true })).toBeUndefined();
  });
});
