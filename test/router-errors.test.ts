import { once } from 'node:events';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { getJson, postJson, rawExchange } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { spawnCli, startRouter, startSim, stopAll, waitFor, writeConfig, type Proc } from './support/processes.js';

const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

/** The JSON log lines a process wrote so far. */
const logLines = (proc: Proc): Array<Record<string, unknown>> =>
  proc.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

function expectError(response: { status: number; body: any }, status: number, message?: RegExp): void {
  expect(response.status).toBe(status);
  assertConforms('ErrorResponse', response.body);
  if (message) expect(response.body.error.message).toMatch(message);
}

describe('errors the router answers itself', () => {
  let router: Proc;
  let sim: Proc;
  let slow: Proc;

  beforeAll(async () => {
    [sim, slow] = await Promise.all([startSim({ models: ['m1'], ttftMs: 5 }), startSim({ models: ['slow'], ttftMs: 3000 })]);
    router = await startRouter({
      max_body_bytes: 4096,
      request_timeout_s: 0.5,
      services: [
        { name: 'live', url: sim.url },
        { name: 'slow', url: slow.url },
        // Listed with a model but never reachable: its model is known yet has no healthy service.
        { name: 'dead', url: 'http://127.0.0.1:9', models: ['orphan'] },
      ],
    });
  });
  afterAll(stopAll);

  it('400 on malformed JSON', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, '{"model": '), 400, /parse the JSON/);
  });

  it('400 on a body that is not an object', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, '[1,2]'), 400, /JSON object/);
    expectError(await postJson(`${router.url}/v1/chat/completions`, ''), 400);
  });

  it('400 on a body nested deeper than the router reads, not a 500 from serialising it (the cache key, a re-serialised body)', async () => {
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const body = (levels: number) => `{"model":"m1","temperature":0,"max_tokens":2,"messages":[{"role":"user","content":"hi"}],"x":${nested(levels)}}`;
    // The body object and the arrays in its x: 128 levels in all is the most accepted.
    expect((await postJson(`${router.url}/v1/chat/completions`, body(127))).status).toBe(200);
    expectError(await postJson(`${router.url}/v1/chat/completions`, body(128)), 400, /nested more than 128 levels/);
    expectError(await postJson(`${router.url}/route/explain`, body(128)), 400, /nested more than 128 levels/);
  });

  it('400 on a body that is not valid UTF-8 (the router and the backend would read different text)', async () => {
    const invalid = Buffer.concat([Buffer.from('{"model":"m1","messages":[{"role":"user","content":"h'), Buffer.from([0xff, 0xfe]), Buffer.from('i"}]}')]);
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: invalid });
    expectError({ status: response.status, body: await response.json() }, 400, /UTF-8/);
  });

  it('400 on a missing or non-string model', async () => {
    const missing = await postJson(`${router.url}/v1/chat/completions`, { messages: [] });
    expectError(missing, 400, /model/);
    expect(missing.body.error.param).toBe('model');
    expectError(await postJson(`${router.url}/v1/chat/completions`, { model: 42, messages: [] }), 400, /model/);
  });

  it('400 on a model name no target could have (over 256 characters, control characters, unpaired surrogates), which the request log does not keep', async () => {
    // An unauthenticated client could otherwise write megabytes per request into the request log, or escape sequences into `logs tail`.
    const long = await postJson(`${router.url}/v1/chat/completions`, chat(`gpt-${'a'.repeat(253)}`), { 'x-request-id': 'long-model' });
    expectError(long, 400, /256 characters/);
    expect(long.body.error.param).toBe('model');
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('m1\u001b[2J')), 400, /control characters/);
    // JSON's "\ud800", half a surrogate pair: no UTF-8 form, so the request log would keep another name.
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('m1\ud800')), 400, /unpaired surrogates/);
    const row = await waitFor(async () => (await getJson(`${router.url}/admin/requests?status=400`)).body.data.find((r: { requestId: string }) => r.requestId === 'long-model'), 'the row');
    expect(row.model).toBe('unknown');
  });

  it('400 on missing messages, prompt or input', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, { model: 'm1' }), 400, /messages/);
    expectError(await postJson(`${router.url}/v1/completions`, { model: 'm1' }), 400, /prompt/);
    expectError(await postJson(`${router.url}/v1/embeddings`, { model: 'm1' }), 400, /input/);
  });

  it('404 naming an unknown model', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('no-such-model')), 404, /no-such-model/);
  });

  it('404 on an unknown route, in the OpenAI shape', async () => {
    expectError(await postJson(`${router.url}/v2/whatever`, {}), 404);
  });

  it('413 on a body over the limit', async () => {
    const big = { model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(8000) }] };
    expectError(await postJson(`${router.url}/v1/chat/completions`, big), 413);
  });

  it('413 on a chunked body that grows over the limit, without a declared length', async () => {
    const response = await new Promise<{ status: number; body: any; headers: IncomingHttpHeaders }>((resolve, reject) => {
      const req = request(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }));
      });
      req.on('error', reject);
      req.write('{"model": "m1", "messages": [{"role": "user", "content": "');
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end('"}]}');
    });
    expectError(response, 413);
  });

  it('413 that an SDK client still uploading its body can read (the rest of the body is read and dropped, not reset)', async () => {
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const failure = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(4_000_000) }] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
  });

  it('a 413 stays the only answer to its request when the client then stops mid-body (FIN) or sends malformed chunks', async () => {
    const declared = await rawExchange(router.port, 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{"model"', { halfClose: true });
    const chunked = await rawExchange(router.port, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2000\r\n${'x'.repeat(0x2000)}\r\nnot-a-chunk-size\r\n`);
    for (const answer of [declared, chunked]) {
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    }
  });

  it('415 on a compressed body, with a message that says so', async () => {
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(chat('m1'))) });
    expectError({ status: response.status, body: await response.json() }, 415, /Content-Encoding 'gzip'/);
    // An empty or identity coding is no compression at all.
    for (const encoding of ['', 'Identity']) {
      expect((await postJson(`${router.url}/v1/chat/completions`, { ...chat('m1'), max_tokens: 1 }, { 'content-encoding': encoding })).status, encoding).toBe(200);
    }
  });

  it.each([
    ['an unparsable request', 'NONSENSE\r\n\r\n', 400],
    ['a request with conflicting lengths', 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n', 400],
    ['headers over the limit', `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a path that is not valid percent-encoding', 'GET /v1/models/%E2%82 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', 400],
    ['a CONNECT, as to a proxy (the router is none)', 'CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n\r\n', 405],
    ['an HTTP/1.1 request without Host', 'GET /health HTTP/1.1\r\nconnection: close\r\n\r\n', 400],
    ['an Expect other than 100-continue', 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nexpect: teapot\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}', 417],
  ])('answers %s in the OpenAI error shape', async (_, raw, status) => {
    const answer = await rawExchange(router.port, raw);
    expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    assertConforms('ErrorResponse', JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)));
  });

  it.each([
    ['headers over the limit', `POST /v1/messages?beta=true HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['an unparsable header', 'POST /v1/messages HTTP/1.1\r\nhost: x\r\nnot a header\r\n\r\n', 400],
    ['an unparsable request line', 'POST /v1/messages/count_tokens HTTP/9.9\r\nhost: x\r\n\r\n', 400],
    ['an unparsable request in absolute-form', `POST http://${'h'.repeat(300)}.example/v1/messages HTTP/1.1\r\nhost: x\r\nnot a header\r\n\r\n`, 400],
  ])("answers %s on the Messages API's paths in Anthropic's error shape", async (_, raw, status) => {
    const answer = await rawExchange(router.port, raw);
    expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } });
    // Only the path decides: the same refusal for another path keeps the OpenAI shape.
    const elsewhere = await rawExchange(router.port, raw.replace('/v1/messages', '/v1/chat/completions'));
    assertConforms('ErrorResponse', JSON.parse(elsewhere.slice(elsewhere.indexOf('\r\n\r\n') + 4)));
  });

  it('survives a client that resets its connection after the answer to its CONNECT', async () => {
    const socket = connect(router.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write('CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n\r\n');
    await once(socket, 'data');
    socket.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${router.url}/health`)).status).toBe(200);
  });

  it('408 to a client that does not finish sending its request within request_timeout_s', async () => {
    const answer = await rawExchange(router.port, 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"mo');
    expect(answer.startsWith('HTTP/1.1 408 ')).toBe(true);
    assertConforms('ErrorResponse', JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)));
    const messages = await rawExchange(router.port, 'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"mo');
    expect(messages.startsWith('HTTP/1.1 408 ')).toBe(true);
    expect(JSON.parse(messages.slice(messages.indexOf('\r\n\r\n') + 4))).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'The request was not received in time' } });
  });

  it('survives a client that goes away halfway through sending its body', async () => {
    const socket = connect(router.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model": "m1"');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    expect((await postJson(`${router.url}/v1/chat/completions`, { ...chat('m1'), max_tokens: 2 })).status).toBe(200);
  });

  it('accepts a query string on the inference paths', async () => {
    expect((await postJson(`${router.url}/v1/chat/completions?api-version=2024-10-21`, { ...chat('m1'), max_tokens: 2 })).status).toBe(200);
  });

  it('404 on a GET of an inference path, in the OpenAI shape', async () => {
    const response = await fetch(`${router.url}/v1/chat/completions`);
    expectError({ status: response.status, body: await response.json() }, 404);
  });

  it('503 when the model is known but no service serving it is healthy', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('orphan'), { 'x-request-id': 'orphan-1' }), 503, /orphan/);
  });

  it('says in its log why a request failed, without the prompt unless log_prompts is set', async () => {
    const failure = await waitFor(() => logLines(router).find((line) => line.requestId === 'orphan-1' && line.msg === 'request failed'), 'the log line');
    expect(failure).toMatchObject({ level: 40, model: 'orphan', status: 503, err: expect.stringContaining('orphan') });
    expect(failure).not.toHaveProperty('messages');
    // A 503 another route answers on purpose is the fleet's state, not the router's fault: no error line, no stack.
    expect((await fetch(`${router.url}/v1/models/orphan`, { headers: { 'x-request-id': 'orphan-model' } })).status).toBe(503);
    await postJson(`${router.url}/v1/chat/completions`, chat('orphan'), { 'x-request-id': 'orphan-after' });
    await waitFor(() => logLines(router).find((line) => line.requestId === 'orphan-after'), 'the later log line');
    expect(logLines(router).filter((line) => line.requestId === 'orphan-model')).toEqual([]);
    const talkative = await startRouter({ logging: { log_prompts: true }, services: [{ name: 'dead', url: 'http://127.0.0.1:9', models: ['orphan'] }] });
    await postJson(`${talkative.url}/v1/chat/completions`, chat('orphan'), { 'x-request-id': 'orphan-2' });
    const withPrompt = await waitFor(() => logLines(talkative).find((line) => line.requestId === 'orphan-2' && line.msg === 'request failed'), 'the log line');
    expect(withPrompt.messages).toEqual(chat('orphan').messages);
  });

  it('504 when the backend does not answer in time, counted against the backend that was waited on', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('slow')), 504, /0.5s/);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_requests_total', { model: 'slow', status: '504', target: 'slow' })).toBe(1);
  });

  it('keeps serving after all that', async () => {
    expect((await postJson(`${router.url}/v1/chat/completions`, { ...chat('m1'), max_tokens: 2 })).status).toBe(200);
  });
});

describe('configuration errors', () => {
  it('refuses to start on an invalid config, naming the bad key', async () => {
    const file = writeConfig({ services: [{ name: 'x', url: 'ftp://nope' }], health_check: { interval_s: -1 } });
    const error = await spawnCli(['serve', '--config', file], /router listening/).catch((e: Error) => e);
    expect(String(error)).toMatch(/exited with 2/);
    expect(String(error)).toMatch(/services\.0\.url: must be an http/);
    expect(String(error)).toMatch(/health_check\.interval_s/);
  });

  it('refuses unknown keys', async () => {
    const error = await spawnCli(['serve', '--config', writeConfig({ servics: [] })], /router listening/).catch((e: Error) => e);
    expect(String(error)).toMatch(/servics/);
  });

  it('lets environment variables override the file', async () => {
    const router = await spawnCli(['serve', '--config', writeConfig({ port: 1 })], /router listening/, { PORT: '0', REQUEST_TIMEOUT_S: '7' });
    expect(router.port).toBeGreaterThan(1);
    await router.stop();
  });
});
