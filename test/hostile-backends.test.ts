import { createServer, type ServerResponse, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { getJson, listenOnLoopback, postJson } from './support/http.js';
import { startRouter, stopAll, waitFor, type Proc } from './support/processes.js';

const MAX_RESPONSE_BYTES = 1_000_000;
const MB = Buffer.alloc(1024 * 1024, 'x');

const completion = (content: string) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });

/** Writes `head`, then a megabyte every few milliseconds until the reader hangs up; resolves with the bytes written by then. */
function endless(res: ServerResponse, status: number, head: string): Promise<number> {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.write(head);
  let written = head.length;
  const timer = setInterval(() => {
    if (res.destroyed) return;
    res.write(MB);
    written += MB.length;
  }, 5);
  return new Promise((resolve) => res.on('close', () => (clearInterval(timer), resolve(written))));
}

/** Answers that would take the router's memory if it read them whole, or speak for its origin: each path or model is one case. */
function hostileBackend(): { server: Server; hungUp: Map<string, Promise<number>> } {
  const hungUp = new Map<string, Promise<number>>();
  const server = createServer(async (req, res) => {
    if (req.url === '/hostile-models/health') return void res.writeHead(404).end();
    if (req.url === '/hostile-models/v1/models') return void hungUp.set('models', endless(res, 200, '{"data":['));
    if (req.url === '/hostile-metrics/metrics') return void hungUp.set('metrics', endless(res, 200, '# HELP vllm:num_requests_running x\n'));
    if (req.method === 'GET') return void res.writeHead(200).end('{"status":"ok"}');
    let text = '';
    for await (const piece of req) text += piece;
    const { model, stream } = JSON.parse(text) as { model: string; stream?: boolean };
    switch (model) {
      case 'junk-usage': {
        const usage = { prompt_tokens: '7', completion_tokens: null, total_tokens: -1, prompt_tokens_details: { cached_tokens: 'x' } };
        if (!stream) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...JSON.parse(completion('fine')), usage }));
        const chunk = (fields: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, ...fields })}\n\n`;
        return void res
          .writeHead(200, { 'content-type': 'text/event-stream' })
          .end(`${chunk({ choices: [{ index: 0, delta: { content: 'fine' }, finish_reason: 'stop' }] })}${chunk({ choices: [], usage })}data: [DONE]\n\n`);
      }
      case 'huge':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(completion('x'.repeat(2 * MAX_RESPONSE_BYTES)));
      case 'endless':
        return void hungUp.set(model, endless(res, 200, '{"choices":[{"message":{"content":"'));
      case 'endless-error':
        return void hungUp.set(model, endless(res, 500, '{"error":{"message":"'));
      case 'speaks-for-the-router':
        return void res
          .writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=planted', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', 'x-engine': 'kept' })
          .end(completion('fine'));
      case 'gzip-bomb':
        return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(completion('x'.repeat(50 * MAX_RESPONSE_BYTES))));
    }
    res.writeHead(404).end();
  });
  return { server, hungUp };
}

describe('hostile backends: answers too large to hold, headers that speak for the router', () => {
  let router: Proc;
  let backend: ReturnType<typeof hostileBackend>;
  const chat = (model: string) => postJson(`${router.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });

  beforeAll(async () => {
    backend = hostileBackend();
    const url = await listenOnLoopback(backend.server);
    router = await startRouter({
      max_response_bytes: MAX_RESPONSE_BYTES,
      // A probe that read its whole answer would still be reading when the router should be listening.
      health_check: { interval_s: 60, timeout_s: 60, failure_threshold: 100 },
      routing: { engine_metrics: { enabled: true, interval_s: 1 } },
      retry: { max_attempts: 1 },
      request_log: { flush_interval_ms: 100 },
      services: [
        { name: 'answers', url, models: ['huge', 'endless', 'endless-error', 'gzip-bomb', 'speaks-for-the-router', 'junk-usage'] },
        { name: 'hostile-models', url: `${url}/hostile-models` },
        { name: 'hostile-metrics', url: `${url}/hostile-metrics`, models: ['quiet'] },
      ],
    });
  });
  afterAll(async () => {
    await stopAll();
    backend.server.closeAllConnections();
    backend.server.close();
  });

  it('answers 502 for a non-streamed answer larger than max_response_bytes', async () => {
    const response = await chat('huge');
    expect(response.status).toBe(502);
    assertConforms('ErrorResponse', response.body);
    expect(response.body.error.message).toMatch(/max_response_bytes \(1000000 bytes\)/);
  });

  it('hangs up on an endless answer, and on an endless error body', async () => {
    for (const model of ['endless', 'endless-error']) {
      const response = await chat(model);
      expect(response.status).toBeGreaterThanOrEqual(500);
      assertConforms('ErrorResponse', response.body);
      expect(await backend.hungUp.get(model)).toBeLessThan(16 * MB.length);
    }
  });

  it('does not decompress a gzip bomb past max_response_bytes', async () => {
    const response = await chat('gzip-bomb');
    expect(response.status).toBe(502);
    assertConforms('ErrorResponse', response.body);
  });

  it("relays no cookie or CORS grant of a target's: those speak for the router's origin", async () => {
    const response = await chat('speaks-for-the-router');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-engine')).toBe('kept');
    for (const name of ['set-cookie', 'access-control-allow-origin', 'access-control-allow-credentials']) expect(response.headers.get(name)).toBeNull();
  });

  it('answers and accounts an answer whose usage counts are not numbers (chat and Messages, whole and streamed), counting none of them', async () => {
    const ask = { model: 'junk-usage', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    const answers = await Promise.all([
      postJson(`${router.url}/v1/chat/completions`, ask),
      postJson(`${router.url}/v1/chat/completions`, { ...ask, stream: true, stream_options: { include_usage: true } }),
      postJson(`${router.url}/v1/messages`, ask),
      postJson(`${router.url}/v1/messages`, { ...ask, stream: true }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(answers[2]!.body.usage).toEqual({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const ids = answers.map((answer) => answer.headers.get('x-request-id'));
    const rows = await waitFor(async () => {
      const logged = ((await getJson(`${router.url}/admin/requests?since=0`)).body as { data: Array<{ requestId: string; status: number; promptTokens: number | null }> }).data.filter((row) => ids.includes(row.requestId));
      return logged.length === ids.length ? logged : undefined;
    }, 'the four answers in the request log');
    for (const row of rows) expect(row).toMatchObject({ status: 200 });
    expect(rows.every((row) => row.promptTokens === null || typeof row.promptTokens === 'number')).toBe(true);
    const metrics = await fetch(`${router.url}/metrics`);
    expect(await metrics.text()).toMatch(/switchyard_requests_total\{route="messages",model="junk-usage",target="answers",status="200"\} 2/);
  });

  it('fails a probe whose model list never ends, without waiting for its timeout', async () => {
    expect(await backend.hungUp.get('models')).toBeLessThan(32 * MB.length);
    const services = await getJson(`${router.url}/services`);
    expect(services.body.services.find((s: { name: string }) => s.name === 'hostile-models').healthy).toBe(false);
  });

  it('hangs up on an engine metrics page that never ends', async () => {
    const written = await waitFor(() => backend.hungUp.get('metrics'), 'a metrics scrape');
    expect(written).toBeLessThan(32 * MB.length);
  });
});
