import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { getJson, listenOnLoopback, postJson } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, stopAll, type Proc } from './support/processes.js';

const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const completion = (model: string) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 },
});

/**
 * A backend whose answers are valid but unusual (SSE without the optional space, media types in
 * odd case or missing, compressed JSON) or broken in ways only the body shows; one model per case.
 */
function quirkyBackend(): { server: Server; release: (model: string) => void } {
  const gates = new Map<string, () => void>();
  const released = (model: string) => new Promise<void>((resolve) => gates.set(model, resolve));
  const server = createServer(async (req, res) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    let text = '';
    for await (const piece of req) text += piece;
    const { model } = JSON.parse(text) as { model: string };
    switch (model) {
      case 'done-without-space':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end(`${chunk('a')}${chunk('b')}data:[DONE]\n\n`);
      case 'done-inside-a-token':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // The text of the end marker inside generated content, then the connection ends without the real one.
        return void res.end(chunk('data: [DONE]\n\n'));
      case 'upper-case-stream':
      case 'untyped-stream':
        res.writeHead(200, model === 'upper-case-stream' ? { 'content-type': 'Text/Event-Stream' } : {});
        res.write(chunk('first'));
        // The rest only once the client has the first chunk: a router that buffered would never deliver it.
        await released(model);
        return void res.end(`${chunk('second')}data: [DONE]\n\n`);
      case 'queued-stream':
        // An engine that keeps the connection alive with comments while the request waits in its queue.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': queued\n\n');
        await released(model);
        return void res.end(`${chunk('token')}data: [DONE]\n\n`);
      case 'untyped-whole-stream':
        res.writeHead(200, {});
        return void res.end(`${chunk('whole')}data: [DONE]\n\n`);
      case 'html-page':
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>upstream proxy error</html>');
      case 'upper-case-broken-json':
        return void res.writeHead(200, { 'content-type': 'Application/JSON' }).end('{"id": "chatcmpl-1", "choices": [');
      case 'gzipped':
        return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify(completion(model))));
    }
    res.writeHead(404).end();
  });
  return { server, release: (model) => gates.get(model)!() };
}

describe('backend answers that are unusual or broken', () => {
  let router: Proc;
  let backend: ReturnType<typeof quirkyBackend>;
  let client: OpenAI;
  const streamChat = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });

  beforeAll(async () => {
    backend = quirkyBackend();
    const url = await listenOnLoopback(backend.server);
    // One service per failing case, so that one case's failure never ejects the service of another.
    router = await startRouter({
      services: [
        { name: 'sound', url, models: ['done-without-space', 'upper-case-stream', 'untyped-stream', 'queued-stream', 'untyped-whole-stream', 'gzipped', 'org/model'] },
        { name: 'truncating', url, models: ['done-inside-a-token'] },
        { name: 'html', url, models: ['html-page'] },
        { name: 'broken', url, models: ['upper-case-broken-json'] },
      ],
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    backend.server.closeAllConnections();
    backend.server.close();
  });

  it('takes data:[DONE] (no space, as SSE allows) as the end of a stream: no error, and the backend stays in service', async () => {
    // Four streams: with failure_threshold 3, counting them as broken would eject the backend.
    for (let i = 0; i < 4; i++) {
      let text = '';
      for await (const part of await streamChat('done-without-space')) text += part.choices[0]?.delta.content ?? '';
      expect(text).toBe('ab');
    }
    const services = await getJson(`${router.url}/services`);
    expect(services.body.services.find((s: { name: string }) => s.name === 'sound').healthy).toBe(true);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_stream_errors_total', { model: 'done-without-space' })).toBe(0);
  });

  it('does not take the end marker inside a token for the end of the stream, and counts the broken stream', async () => {
    const consumed = (async () => {
      for await (const _ of await streamChat('done-inside-a-token'));
    })();
    await expect(consumed).rejects.toThrow(/without \[DONE\]/);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_stream_errors_total', { model: 'done-inside-a-token', target: 'truncating' })).toBe(1);
    expect(metricValue(metrics, 'switchyard_requests_total', { model: 'done-inside-a-token', status: '200' })).toBe(1);
  });

  it.each(['upper-case-stream', 'untyped-stream'])('relays a %s live, chunk by chunk', async (model) => {
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('first')) text += (await reader.read()).value ?? '';
    backend.release(model);
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += read.value;
    expect(text).toContain('second');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).not.toContain('"error"');
  });

  it('times the first token from the first data, not from keep-alive comments sent while queued', async () => {
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'queued-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes(': queued')) text += (await reader.read()).value ?? '';
    // The token comes a known while after the comment: the recorded TTFT cannot be shorter.
    await new Promise((resolve) => setTimeout(resolve, 300));
    backend.release('queued-stream');
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += read.value;
    expect(text).toContain('data: [DONE]');
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_time_to_first_token_seconds_sum', { model: 'queued-stream' })).toBeGreaterThanOrEqual(0.3);
  });

  it('types an untyped stream as an event stream, also when it is replayed from the cache', async () => {
    const ask = () => fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'untyped-whole-stream', stream: true, cache: true, messages: [{ role: 'user', content: 'hi' }] }) });
    for (const cache of ['miss', 'hit']) {
      const response = await ask();
      expect(response.headers.get('x-switchyard-cache')).toBe(cache);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(await response.text()).toContain('data: [DONE]');
    }
  });

  it.each(['html-page', 'upper-case-broken-json'])('answers 502 for a 200 whose body is not JSON (%s)', async (model) => {
    const response = await postJson(`${router.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(502);
    assertConforms('ErrorResponse', response.body);
    expect(response.body.error.message).toMatch(/invalid JSON/);
  });

  it('relays a compressed answer as it came, and reads its usage', async () => {
    const answer = await client.chat.completions.create({ model: 'gzipped', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]!.message.content).toBe('fine');
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_tokens_total', { model: 'gzipped', type: 'prompt' })).toBe(7);
  });

  it('reads a model id in the path once: slashes allowed, percent signs literal', async () => {
    for (const path of ['org/model', 'org%2Fmodel']) expect((await getJson(`${router.url}/v1/models/${path}`)).body.id).toBe('org/model');
    const percent = await getJson(`${router.url}/v1/models/%25`);
    expect(percent.status).toBe(404);
    assertConforms('ErrorResponse', percent.body);
    expect(percent.body.error.message).toContain("'%'");
    // decoded twice, "gzi%2570" would become "gzipped"'s prefix "gzip"; once, it is "gzi%70"
    expect((await getJson(`${router.url}/v1/models/gzi%2570ped`)).status).toBe(404);
  });
});
