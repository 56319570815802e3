import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { getJson, listenOnLoopback, postJson, rawExchange } from './support/http.js';
import { startRouter, startSim, stopAll, waitFor } from './support/processes.js';
import { freePort } from './support/redis.js';

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

afterEach(stopAll);

describe('failover and ejection', () => {
  it('retries a 503 on another replica before anything reached the client', async () => {
    const [failing, healthy] = await Promise.all([startSim({ models: ['m'], failStatus: 503 }), startSim({ models: ['m'], ttftMs: 1 })]);
    const router = await startRouter({ services: [{ name: 'failing', url: failing.url }, { name: 'healthy', url: healthy.url }] });
    for (let i = 0; i < 4; i++) {
      const response = await postJson(`${router.url}/v1/chat/completions`, chat('m'));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-switchyard-target')).toBe('healthy');
    }
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_upstream_retries_total\{model="m"\} [1-9]/);
  });

  it('passes the last 503 through when every replica answers 503', async () => {
    const failing = await startSim({ models: ['m'], failStatus: 503 });
    const router = await startRouter({ services: [{ name: 'only', url: failing.url }] });
    const response = await postJson(`${router.url}/v1/chat/completions`, chat('m'));
    expect(response.status).toBe(503);
    expect(response.body.error.message).toMatch(/simulated failure/);
  });

  it('passes backend 4xx through unchanged and does not retry them', async () => {
    const sim = await startSim({ models: ['m'], failStatus: 422 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const response = await postJson(`${router.url}/v1/chat/completions`, chat('m'));
    expect(response.status).toBe(422);
    expect((await getJson(`${sim.url}/sim/stats`)).body.requests).toBe(1);
  });

  it('fails over when a replica dies, ejects it, and takes it back once probes pass', async () => {
    // Restarted on its port below: one from freePort, which no other socket takes meanwhile.
    const [doomed, survivor] = await Promise.all([startSim({ models: ['m'], ttftMs: 1, port: await freePort() }), startSim({ models: ['m'], ttftMs: 1 })]);
    // Only failed requests eject it (no round is due in time), so some of them do reach it; probes of the unhealthy bring it back.
    const router = await startRouter({
      health_check: { interval_s: 60, unhealthy_interval_s: 0.3, timeout_s: 1, failure_threshold: 1 },
      services: [{ name: 'doomed', url: doomed.url }, { name: 'survivor', url: survivor.url }],
    });
    const port = doomed.port;
    await doomed.stop();
    const results = await Promise.all(Array.from({ length: 6 }, () => postJson(`${router.url}/v1/chat/completions`, chat('m'))));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results.every((r) => r.headers.get('x-switchyard-target') === 'survivor')).toBe(true);
    const services = await getJson(`${router.url}/services`);
    expect(services.body.services.find((s: { name: string }) => s.name === 'doomed').healthy).toBe(false);
    expect((await getJson(`${router.url}/health`)).body).toMatchObject({ status: 'degraded', healthy_services: '1/2' });
    const stats = await getJson(`${router.url}/stats`);
    expect(stats.body.services.find((s: { name: string }) => s.name === 'doomed').error_count).toBeGreaterThan(0);

    await startSim({ models: ['m'], port, ttftMs: 1 });
    await waitFor(async () => (await getJson(`${router.url}/health`)).body.status === 'healthy', 'the replica to recover');
    const targets = new Set<string>();
    for (let i = 0; i < 6; i++) targets.add((await postJson(`${router.url}/v1/chat/completions`, chat('m'))).headers.get('x-switchyard-target')!);
    expect(targets).toEqual(new Set(['doomed', 'survivor']));
  });

  it('serves an engine that was not up yet when the router started as soon as it answers, not a whole interval later', async () => {
    const port = await freePort();
    // A round every 60 s: recovering in time below can only come from probing unhealthy services more often.
    const router = await startRouter({ health_check: { interval_s: 60, unhealthy_interval_s: 0.3, timeout_s: 1 }, services: [{ name: 'late', url: `http://127.0.0.1:${port}`, models: ['m'] }] });
    expect((await postJson(`${router.url}/v1/chat/completions`, chat('m'))).status).toBe(503);
    await startSim({ models: ['m'], port, ttftMs: 1 });
    await waitFor(async () => (await getJson(`${router.url}/health`)).body.status === 'healthy', 'the late engine to be probed healthy');
    expect((await postJson(`${router.url}/v1/chat/completions`, chat('m'))).status).toBe(200);
  });

  it('answers 502 when the only replica cannot be reached', async () => {
    const sim = await startSim({ models: ['m'] });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    await sim.stop();
    const response = await postJson(`${router.url}/v1/chat/completions`, chat('m'));
    expect(response.status).toBe(502);
    expect(response.body.error.message).toMatch(/only/);
  });

  it('answers 502 when a backend says 200 with a body that is not the JSON it claims', async () => {
    // Healthy to its probes, broken in its answers.
    const backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? '{"status":"ok"}' : '{"id": "chatcmpl-1", "choices": [');
    });
    const url = await listenOnLoopback(backend);
    try {
      const router = await startRouter({ services: [{ name: 'broken', url, models: ['m'] }] });
      const response = await postJson(`${router.url}/v1/chat/completions`, chat('m'));
      expect(response.status).toBe(502);
      assertConforms('ErrorResponse', response.body);
      expect(response.body.error.message).toMatch(/broken.*invalid JSON/);
    } finally {
      backend.closeAllConnections();
      backend.close();
    }
  });
});

describe('streams and disconnects', () => {
  it('aborts the upstream request when the client disconnects', async () => {
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 10 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const controller = new AbortController();
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat('m', { stream: true })), signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(async () => (await getJson(`${sim.url}/sim/stats`)).body.aborted === 1, 'the backend to see the abort');
    const stats = await getJson(`${router.url}/stats`);
    expect(stats.body.services[0].in_flight).toBe(0);
  });

  it('takes a FIN from the client for its leaving, and aborts even a non-streamed generation at once', async () => {
    // Every HTTP client closes with a FIN (an SDK's timeout too), so a half-close cannot be told from a client that is gone.
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 10 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const body = JSON.stringify(chat('m', { max_tokens: 200 }));
    const answer = rawExchange(router.port, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`, { halfClose: true });
    await waitFor(async () => (await getJson(`${sim.url}/sim/stats`)).body.aborted === 1, 'the backend to see the abort', 3000);
    expect(await answer).toBe('');
  });

  it('ends the client stream with an error event when the backend dies mid-stream', async () => {
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 5 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create(chat('m', { stream: true }) as OpenAI.ChatCompletionCreateParamsStreaming);
    const received: string[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) {
        received.push(chunk.choices[0]?.delta.content ?? '');
        if (received.length === 2) void sim.stop();
      }
    })();
    await expect(consumed).rejects.toThrow(/backend stream broke/);
    expect(received.length).toBeGreaterThanOrEqual(2);
  });

  it('discovers a model loaded after start-up without a restart', async () => {
    const sim = await startSim({ models: ['first'] });
    const router = await startRouter({ health_check: { interval_s: 0.3 }, services: [{ name: 'only', url: sim.url }] });
    expect((await postJson(`${router.url}/v1/chat/completions`, chat('second'))).status).toBe(404);
    await fetch(`${sim.url}/sim/models`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ models: ['first', 'second'] }) });
    await waitFor(async () => (await getJson(`${router.url}/v1/models`)).body.data.some((m: { id: string }) => m.id === 'second'), 'the new model to appear');
    expect((await postJson(`${router.url}/v1/chat/completions`, chat('second'))).status).toBe(200);
  });

  it('drains in-flight streams on SIGTERM, refuses new connections, then exits 0', async () => {
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 20 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chat('m', { stream: true })) });
    const text = response.text();
    await new Promise((r) => setTimeout(r, 100));
    const exit = router.stop('SIGTERM');
    expect((await text).trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await exit).toBe(0);
    await expect(fetch(`${router.url}/health`)).rejects.toThrow();
  });

  it('ends a stream still open when the shutdown grace period runs out with an error event saying why', async () => {
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 2 });
    const router = await startRouter({ shutdown_grace_s: 0.5, services: [{ name: 'only', url: sim.url }] });
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create(chat('m', { stream: true, max_tokens: 100 }) as OpenAI.ChatCompletionCreateParamsStreaming);
    let exit: Promise<number | null> | undefined;
    const consumed = (async () => {
      for await (const _ of stream) exit ??= router.stop('SIGTERM');
    })();
    await expect(consumed).rejects.toThrow(/shutting down/);
    expect(await exit).toBe(0);
  });

  it('answers an inference request that arrives on a busy connection during the drain with 503, then closes it', async () => {
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 20 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const socket = connect(router.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    const ended = once(socket, 'end');
    const post = (body: unknown) => {
      const text = JSON.stringify(body);
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    };
    post(chat('m', { stream: true }));
    await new Promise((r) => setTimeout(r, 100));
    const exit = router.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    // Pipelined behind the stream, so the connection is busy and stays open until it is answered.
    post(chat('m'));
    await ended;
    expect(received).toContain('data: [DONE]');
    const refusal = received.slice(received.indexOf('HTTP/1.1 503'));
    expect(refusal).toMatch(/^HTTP\/1.1 503/);
    expect(refusal.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(refusal.slice(refusal.indexOf('\r\n\r\n') + 4));
    assertConforms('ErrorResponse', body);
    expect(body.error.code).toBe('shutting_down');
    expect(await exit).toBe(0);
  });

  it('reads the whole body of a large request refused during the drain, so that its client reads the 503 instead of a reset', async () => {
    const sim = await startSim({ models: ['m'], ttftMs: 1, tokensPerS: 20 });
    const router = await startRouter({ services: [{ name: 'only', url: sim.url }] });
    const socket = connect(router.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    const failures: Error[] = [];
    socket.on('error', (error) => failures.push(error));
    const closed = once(socket, 'close');
    const stream = JSON.stringify(chat('m', { stream: true, max_tokens: 10 }));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${stream.length}\r\n\r\n${stream}`);
    await new Promise((r) => setTimeout(r, 100));
    const exit = router.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    // Pipelined behind the stream, and sent slowly: the stream ends (and the 503 is due) while the upload goes on.
    const large = Buffer.from(JSON.stringify(chat('m', { messages: [{ role: 'user', content: 'x'.repeat(8_000_000) }] })));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${large.length}\r\n\r\n`);
    for (let offset = 0; offset < large.length; offset += 500_000) {
      if (!socket.write(large.subarray(offset, offset + 500_000), (error) => error && failures.push(error))) await Promise.race([once(socket, 'drain'), closed]);
      await new Promise((r) => setTimeout(r, 50));
    }
    await closed;
    expect(failures).toEqual([]);
    expect(received).toContain('data: [DONE]');
    const refusal = received.slice(received.indexOf('HTTP/1.1 503'));
    expect(refusal.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(refusal.slice(refusal.indexOf('\r\n\r\n') + 4)).error.code).toBe('shutting_down');
    expect(await exit).toBe(0);
  });
});
