import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { getJson, postJson, rawExchange } from './support/http.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

describe('router in front of two replicas', () => {
  let router: Proc;
  let simA: Proc;
  let simB: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    [simA, simB] = await Promise.all([startSim({ models: ['m1', 'only-a'], ttftMs: 5 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    router = await startRouter({ services: [{ name: 'a', url: simA.url }, { name: 'b', url: simB.url }] });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('answers a chat completion that conforms to the OpenAI schema', async () => {
    const completion = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 });
    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ completion_tokens: 4 });
  });

  it('streams chat chunks that conform, ending in usage when asked', async () => {
    const stream = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) {
      assertConforms('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('relays SSE as the backend sent it, ending with [DONE]', async () => {
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('answers text completions, streaming and not', async () => {
    const completion = await client.completions.create({ model: 'm1', prompt: 'Once upon a time', max_tokens: 6 });
    assertConforms('CreateCompletionResponse', completion);
    expect(completion.usage?.completion_tokens).toBe(6);
    const stream = await client.completions.create({ model: 'm1', prompt: 'Once', stream: true });
    let text = '';
    for await (const chunk of stream) {
      // The document gives streamed and whole completions one schema, whose finish_reason cannot be
      // null; OpenAI and vLLM send null until the last chunk, so only that one is held to it.
      if (chunk.choices[0]?.finish_reason !== null) assertConforms('CreateCompletionResponse', chunk);
      else expect(chunk).toMatchObject({ object: 'text_completion', model: 'm1', id: expect.any(String) });
      text += chunk.choices[0]?.text ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
  });

  it('answers embeddings (base64 through the SDK, floats raw)', async () => {
    const viaSdk = await client.embeddings.create({ model: 'm1', input: ['a', 'b'] });
    expect(viaSdk.data).toHaveLength(2);
    expect(viaSdk.data[0]!.embedding.length).toBe(16);
    const raw = await postJson(`${router.url}/v1/embeddings`, { model: 'm1', input: 'a', encoding_format: 'float' });
    assertConforms('CreateEmbeddingResponse', raw.body);
    expect(raw.body.data[0].embedding).toEqual(viaSdk.data[0]!.embedding);
    expect((await client.embeddings.create({ model: 'm1', input: 'a', dimensions: 4 })).data[0]!.embedding).toHaveLength(4);
    // vLLM's chat embeddings, which the README says pass: the demo fleet must answer them too.
    const chat = await postJson(`${router.url}/v1/embeddings`, { model: 'm1', messages: [{ role: 'user', content: 'a' }] });
    expect(chat.status).toBe(200);
    assertConforms('CreateEmbeddingResponse', chat.body);
    expect(chat.body.data).toHaveLength(1);
    // What an engine cannot produce is the request's error, not the engine failing (a 500 would count against it).
    const impossible = await postJson(`${router.url}/v1/embeddings`, { model: 'm1', input: 'a', dimensions: -1 });
    expect(impossible.status).toBe(400);
    assertConforms('ErrorResponse', impossible.body);
    // The router refuses a body with nothing to embed; the engine the sim stands for (vLLM) does too.
    const nothing = await postJson(`${simA.url}/v1/embeddings`, { model: 'm1' });
    expect(nothing.status).toBe(400);
    assertConforms('ErrorResponse', nothing.body);
  });

  it('serves the unprefixed paths of the InfiniLM router', async () => {
    for (const [path, body] of [
      ['/chat/completions', { model: 'm1', messages: [{ role: 'user', content: 'hi' }] }],
      ['/completions', { model: 'm1', prompt: 'hi' }],
      ['/embeddings', { model: 'm1', input: 'hi' }],
    ] as const) {
      const response = await postJson(`${router.url}${path}`, body);
      expect(response.status, path).toBe(200);
    }
  });

  it('forwards the body byte for byte, unknown fields and sampling parameters included', async () => {
    const body =
      '{"model":"only-a", "messages":[{"role":"user","content":"hi"}],  "temperature":0.3,"top_k":7,' +
      '"repetition_penalty":1.1,"chat_template_kwargs":{"enable_thinking":false},"stop":["\\n"],"x_custom":{"deep":[1,2]}}';
    const response = await postJson(`${router.url}/v1/chat/completions`, body);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchyard-target')).toBe('a');
    const seen = await getJson(`${simA.url}/sim/stats`);
    expect(seen.body.lastRequest.body).toBe(body);
    expect(seen.body.lastRequest.headers.authorization).toBeUndefined();
  });

  it('accepts a body that starts with a UTF-8 byte order mark (as Windows tools write JSON), and forwards it without', async () => {
    const body = '{"model":"only-a","messages":[{"role":"user","content":"bom"}],"max_tokens":2}';
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]) });
    expect(response.status).toBe(200);
    expect((await getJson(`${simA.url}/sim/stats`)).body.lastRequest.body).toBe(body);
  });

  it('passes on only the client headers an engine may use: never credentials, cookies, compression or hop-by-hop headers', async () => {
    const sent = {
      authorization: 'Bearer sk-client', cookie: 'session=1', 'proxy-authorization': 'Basic eDp5', 'accept-encoding': 'gzip', te: 'trailers',
      'x-forwarded-for': '203.0.113.9', 'openai-organization': 'org-1', 'user-agent': 'probe/1',
    };
    expect((await postJson(`${router.url}/v1/chat/completions`, { model: 'only-a', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }, sent)).status).toBe(200);
    const { headers } = (await getJson(`${simA.url}/sim/stats`)).body.lastRequest;
    expect(headers).toMatchObject({ 'openai-organization': 'org-1', 'user-agent': 'probe/1' });
    for (const name of ['authorization', 'cookie', 'proxy-authorization', 'accept-encoding', 'te', 'x-forwarded-for']) expect(headers, name).not.toHaveProperty(name);
  });

  it('returns the backend answer unchanged, with a request id', async () => {
    const response = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-42' });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.body.object).toBe('chat.completion');
  });

  it('routes a request whose target is an absolute URL (absolute-form, as sent to a proxy) like any other', async () => {
    const json = JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    const answer = await rawExchange(router.port, `POST http://router.example/v1/chat/completions?x=1 HTTP/1.1\r\nhost: router.example\r\nconnection: close\r\ncontent-length: ${json.length}\r\n\r\n${json}`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"chat.completion"');
    const health = await rawExchange(router.port, 'GET http://router.example/health HTTP/1.1\r\nhost: router.example\r\nconnection: close\r\n\r\n');
    expect(health).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('echoes the request id on every route, errors included, as OpenAI does', async () => {
    for (const path of ['/v1/models', '/v1/models/nope', '/health', '/no-such-route']) {
      const response = await fetch(`${router.url}${path}`, { headers: { 'x-request-id': 'req-43' } });
      expect(response.headers.get('x-request-id'), path).toBe('req-43');
    }
    expect((await fetch(`${router.url}/stats`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('spreads requests across replicas', async () => {
    const targets = new Set<string>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages: [{ role: 'user', content: 'spread' }] });
        targets.add(response.headers.get('x-switchyard-target')!);
      }),
    );
    expect(targets).toEqual(new Set(['a', 'b']));
  });

  it('reports health', async () => {
    const { status, body } = await getJson(`${router.url}/health`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'healthy', router: 'running', healthy_services: '2/2', timestamp: expect.any(String) });
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  });

  it('lists models on /models and /v1/models, and one model by id', async () => {
    for (const path of ['/models', '/v1/models']) {
      const { body } = await getJson(`${router.url}${path}`);
      assertConforms('ListModelsResponse', body);
      expect(body.data.map((m: { id: string }) => m.id)).toEqual(['m1', 'only-a']);
    }
    const one = await client.models.retrieve('only-a');
    assertConforms('Model', one);
    expect(one.id).toBe('only-a');
    const missing = await getJson(`${router.url}/v1/models/nope`);
    expect(missing.status).toBe(404);
    assertConforms('ErrorResponse', missing.body);
    // Names no request may carry are a 400, as that request's would be: an empty one, control characters.
    for (const id of ['/', 'm1%1B%5B2J']) {
      for (const prefix of ['/models/', '/v1/models/']) {
        const refused = await getJson(`${router.url}${prefix}${id}`);
        expect(refused.status, prefix + id).toBe(400);
        assertConforms('ErrorResponse', refused.body);
        expect(refused.body.error).toMatchObject({ param: 'model', code: 'invalid_value' });
      }
    }
  });

  it('lists services', async () => {
    const { body } = await getJson(`${router.url}/services`);
    const services = body.services.filter((s: { kind: string }) => s.kind === 'service');
    expect(body.total).toBe(body.services.length);
    expect(services).toEqual([
      expect.objectContaining({ name: 'a', url: simA.url, healthy: true, models: ['m1', 'only-a'] }),
      expect.objectContaining({ name: 'b', url: simB.url, healthy: true, models: ['m1'] }),
    ]);
  });

  it('reports per-service stats', async () => {
    const { body } = await getJson(`${router.url}/stats`);
    expect(body).toMatchObject({ total_services: 2, healthy_services: 2 });
    expect(body.services).toHaveLength(2);
    for (const service of body.services) {
      expect(service).toMatchObject({ name: expect.any(String), healthy: true, request_count: expect.any(Number), error_count: 0, response_time: expect.any(Number) });
      expect(service.request_count).toBeGreaterThan(0);
      expect(service.response_time).toBeGreaterThan(0);
      expect(service.in_flight).toBe(0);
      expect(service.last_check.ok).toBe(true);
    }
  });

  it('exposes Prometheus metrics of the traffic', async () => {
    const text = await (await fetch(`${router.url}/metrics`)).text();
    expect(text).toMatch(/switchyard_requests_total\{route="chat",model="m1",target="(a|b)",status="200"\} \d+/);
    expect(text).toMatch(/switchyard_request_duration_seconds_bucket\{le="0.005",model="m1",target="(a|b)"\}/);
    expect(text).toMatch(/switchyard_time_to_first_token_seconds_count\{model="m1",target="(a|b)"\} [1-9]/);
    expect(text).toMatch(/switchyard_target_healthy\{target="a"\} 1/);
    expect(text).toMatch(/switchyard_inflight_requests\{target="b"\} 0/);
    expect(text).toMatch(/switchyard_tokens_total\{model="m1",target="(a|b)",type="completion"\} \d+/);
  });
});
