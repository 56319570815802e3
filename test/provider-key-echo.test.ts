import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorBodyWithoutKey } from '../src/gateway/relay.js';
import { REDACTED_KEY, withoutKey } from '../src/providers/key-echo.js';
import { SseEventTooLargeError } from '../src/providers/sse-parser.js';
import { StreamWithoutKey, streamWithoutKey } from '../src/providers/stream-without-key.js';
import { NO_PROVIDER_ENV } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { errorReply, startFakeProvider, type FakeProvider, type FakeReply } from './support/fake-provider.js';
import { sendInPieces } from './support/fake-upstream.js';
import { getJson, listenOnLoopback, postJson } from './support/http.js';
import { startRouter, stopAll, type Proc } from './support/processes.js';

const OPENAI_KEY = 'sk-proj-7hQk2LmN9pRtV4wYz8aBcDeFgHiJkLmNoPqRsTuV9f3a';
const SERVICE_KEY = 'svc-key-5b1e9c0d7a2f4e6b8c0d1e2f3a4b5c6d';
const ANTHROPIC_KEY = 'sk-ant-api03-Xy9zW8vU7tS6rQ5pO4nM3lK2jI1hG0fE-dC4bA';
const GOOGLE_KEY = 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY';
const KEYS = [OPENAI_KEY, SERVICE_KEY, ANTHROPIC_KEY, GOOGLE_KEY];

/** OpenAI's answer to a bad key: the key masked, its first characters and last four kept. */
const openAiMasked = (key: string) => `Incorrect API key provided: ${key.slice(0, 8)}${'*'.repeat(40)}${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`;

/** Each target echoes the key it was sent (or, for the keyless one, a key it was never sent). */
function echo(body: Record<string, unknown>): FakeReply {
  if (body.contents) {
    const text = (body.contents as Array<{ parts: Array<{ text: string }> }>)[0]!.parts[0]!.text;
    const error = { code: 400, status: 'INVALID_ARGUMENT', message: `API key ${GOOGLE_KEY} not valid. Please pass a valid API key.` };
    if (text === 'stream') return { status: 200, body: '', chunks: [`data: ${JSON.stringify({ error })}\r\n\r\n`] };
    return { status: 400, body: JSON.stringify({ error: { ...error, details: [{ reason: 'API_KEY_INVALID' }] } }) };
  }
  switch (body.model) {
    case 'claude-x':
      return { status: 401, body: JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${ANTHROPIC_KEY}` } }) };
    case 'claude-behind-proxy':
      // not JSON: the translation quotes its first 500 characters, which end inside the key
      return { status: 401, body: `${'p'.repeat(480)} ${ANTHROPIC_KEY} refused`, headers: { 'content-type': 'text/plain' } };
    case 'gpt-4o':
      return errorReply(401, { message: openAiMasked(OPENAI_KEY), type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    case 'svc-model':
      return errorReply(401, { message: `Unknown key ${SERVICE_KEY}`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    default:
      return errorReply(400, { message: openAiMasked(OPENAI_KEY), type: 'invalid_request_error', param: null, code: null });
  }
}

describe('a key the router sent, echoed in a provider error', () => {
  let fake: FakeProvider;
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeProvider(({ body }) => echo(body));
    const env = { ...NO_PROVIDER_ENV, OPENAI_BASE_URL: `${fake.url}/v1`, EXTERNAL_OPENAI_KEY: OPENAI_KEY };
    router = await startRouter(
      {
        health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
        retry: { max_attempts: 1 },
        cooldown: { failure_threshold: 100 },
        services: [
          { name: 'keyed', url: fake.url, models: ['svc-model'], api_key: SERVICE_KEY },
          { name: 'keyless', url: fake.url, models: ['keyless-model'] },
          { name: 'claude', url: fake.url, provider: 'anthropic', models: ['claude-x', 'claude-behind-proxy'], api_key: ANTHROPIC_KEY },
          { name: 'gemini', url: fake.url, provider: 'gemini', models: ['gemini-x'], api_key: GOOGLE_KEY },
        ],
      },
      env,
    );
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  const failure = async (model: string, content = 'hi') => {
    const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    assertConforms('ErrorResponse', { error: (error as InstanceType<typeof OpenAI.APIError>).error });
    return error as InstanceType<typeof OpenAI.APIError>;
  };

  it.each([
    ['a hosted OpenAI-compatible provider (masked key)', 'gpt-4o', 401],
    ['an OpenAI-compatible service (whole key)', 'svc-model', 401],
    ['an Anthropic service (translated error)', 'claude-x', 401],
    ['an Anthropic service (a text error the translation cuts short)', 'claude-behind-proxy', 401],
    ['a Gemini service (translated error)', 'gemini-x', 401],
  ])('is taken out of the error body of %s', async (_, model, status) => {
    const error = await failure(model);
    expect(error.status).toBe(status);
    expect(error.message).toContain(REDACTED_KEY);
    for (const key of KEYS) {
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(key.slice(0, 10));
      expect(error.message).not.toContain(key.slice(-4));
    }
  });

  it("is taken out of a translated stream's error event", async () => {
    const stream = await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'stream' }], stream: true });
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain(`API key ${REDACTED_KEY} not valid`);
    expect((error as Error).message).not.toContain(GOOGLE_KEY);
  });

  it('leaves the error body of a target the router sent no key as it came', async () => {
    const error = await failure('keyless-model');
    expect(error.status).toBe(400);
    expect(error.message).toContain(openAiMasked(OPENAI_KEY));
  });

  it('never reaches the router log', () => {
    for (const key of KEYS) expect(router.lines.join('\n')).not.toContain(key);
  });
});

describe('errorBodyWithoutKey', () => {
  const key = 'sk-test-0123456789abcdef';

  it('reads a compressed error body, and relays it decoded once a key came out of it', () => {
    const headers: Record<string, string> = { 'content-encoding': 'gzip' };
    const body = errorBodyWithoutKey(gzipSync(`{"error":{"message":"bad key ${key}"}}`), headers, key, 1 << 20);
    expect(body.toString()).toBe(`{"error":{"message":"bad key ${REDACTED_KEY}"}}`);
    expect(headers['content-encoding']).toBeUndefined();
  });

  it('relays a body without the key byte for byte, still encoded', () => {
    const headers: Record<string, string> = { 'content-encoding': 'gzip' };
    const sent = gzipSync('{"error":{"message":"over quota"}}');
    expect(errorBodyWithoutKey(sent, headers, key, 1 << 20)).toBe(sent);
    expect(headers['content-encoding']).toBe('gzip');
  });
});

/** The key a request carried, as a target reads it (OpenAI-compatible and Anthropic headers). */
const keyOf = (headers: IncomingHttpHeaders): string => String(headers['x-api-key'] ?? headers.authorization?.replace(/^Bearer /, '') ?? '');

/** An error that quotes the key the target was sent: masked as OpenAI shows it for the hosted provider's models, whole otherwise. */
const quoting = (key: string, model: unknown) => (model === 'gpt-4o' ? openAiMasked(key) : `Unknown key ${key}`);

/** A stream that begins well and then ends with an error event echoing the key, in the wire format of the route it was asked on. */
function echoingStream(path: string, key: string, model: unknown): string {
  const message = quoting(key, model);
  const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
  const event = (type: string, value: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...value })}\n\n`;
  if (path === '/v1/messages') {
    return (
      event('message_start', { message: { id: 'msg_k', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 0 } } }) +
      event('error', { error: { type: 'authentication_error', message } })
    );
  }
  if (path.startsWith('/v1/responses')) {
    const response = { id: 'resp_k', object: 'response', model, output: [] };
    // The id in the path: a streamed retrieve of a stored response (its replay fails), else a create whose response fails.
    if (path.startsWith('/v1/responses/')) return event('error', { code: 'invalid_api_key', message, param: null, sequence_number: 0 });
    return event('response.created', { response: { ...response, status: 'in_progress' } }) + event('response.failed', { response: { ...response, status: 'failed', error: { code: 'server_error', message } } });
  }
  const choice = path === '/v1/completions' ? { index: 0, text: 'Hel', finish_reason: null } : { index: 0, delta: { content: 'Hel' }, finish_reason: null };
  return data({ id: 'cmpl-k', object: 'chat.completion.chunk', model, choices: [choice] }) + data({ error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
}

describe("a key the router sent, echoed in a stream's error event or a success's error", () => {
  const STREAMED_KEYS = [OPENAI_KEY, SERVICE_KEY, ANTHROPIC_KEY];
  let fake: Server;
  let router: Proc;

  beforeAll(async () => {
    fake = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
        const path = req.url!.split('?')[0]!;
        // a Response that failed, made or retrieved whole: a 200 that reports an error
        if ((req.method === 'POST' && path === '/v1/responses' && !body.stream) || (req.method === 'GET' && path === '/v1/responses/resp_k' && !req.url!.includes('stream=true'))) {
          const error = { code: 'server_error', message: quoting(keyOf(req.headers), body.model) };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'resp_k', object: 'response', status: 'failed', error, model: 'svc-model', output: [] }));
          return;
        }
        if (req.method === 'GET' && !req.url!.includes('stream=true')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // 7-byte pieces: the key is cut across network chunks, several times
        void sendInPieces(res, Buffer.from(echoingStream(path, keyOf(req.headers), body.model)), 7);
      });
    });
    const url = await listenOnLoopback(fake);
    const env = { ...NO_PROVIDER_ENV, OPENAI_BASE_URL: `${url}/v1`, EXTERNAL_OPENAI_KEY: OPENAI_KEY };
    router = await startRouter(
      {
        health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
        retry: { max_attempts: 1 },
        cooldown: { failure_threshold: 100 },
        services: [
          { name: 'keyed', url, models: ['svc-model'], api_key: SERVICE_KEY },
          { name: 'keyless', url, models: ['keyless-model'] },
          { name: 'claude', url, provider: 'anthropic', models: ['claude-x'], api_key: ANTHROPIC_KEY },
        ],
      },
      env,
    );
  });
  afterAll(async () => {
    await stopAll();
    fake.closeAllConnections();
    fake.close();
  });

  const streamed = async (path: string, body: Record<string, unknown>) => {
    const answer = await fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    expect(answer.status).toBe(200);
    return { text: await answer.text(), cache: answer.headers.get('x-switchyard-cache') };
  };
  const expectNoKey = (text: string) => {
    expect(text).toContain(REDACTED_KEY);
    for (const key of STREAMED_KEYS) {
      expect(text).not.toContain(key.slice(0, 10));
      expect(text).not.toContain(key.slice(-4));
    }
  };
  const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

  it.each([
    ['a hosted OpenAI-compatible provider (masked key), chat', '/v1/chat/completions', chat('gpt-4o')],
    ['an OpenAI-compatible service (whole key), chat', '/v1/chat/completions', chat('svc-model')],
    ['an OpenAI-compatible service, text completions', '/v1/completions', { model: 'svc-model', prompt: 'hi' }],
    ['an OpenAI-compatible service, the Responses API', '/v1/responses', { model: 'svc-model', input: 'hi' }],
    ['an OpenAI-compatible service, the Messages API (through its chat translation)', '/v1/messages', { ...chat('svc-model'), max_tokens: 16 }],
    ['an Anthropic service, chat (translated)', '/v1/chat/completions', chat('claude-x')],
    ['an Anthropic service, the Messages API (its own stream)', '/v1/messages', { ...chat('claude-x'), max_tokens: 16 }],
  ])('is taken out of the stream of %s', async (_, path, body) => {
    expectNoKey((await streamed(path, body)).text);
  });

  it('is taken out of the streamed replay of a stored response', async () => {
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
    const { id } = await client.responses.create({ model: 'svc-model', input: 'hi' });
    const replay = await fetch(`${router.url}/v1/responses/${id}?stream=true`);
    expect(replay.status).toBe(200);
    expectNoKey(await replay.text());
  });

  it('is taken out of a failed Response, made or retrieved whole (a 200 that reports an error)', async () => {
    const made = await postJson(`${router.url}/v1/responses`, { model: 'svc-model', input: 'hi', cache: true });
    expect(made.status).toBe(200);
    expectNoKey(JSON.stringify(made.body));
    // answered from the cache this time
    const cached = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'svc-model', input: 'hi', cache: true }) });
    expect(cached.headers.get('x-switchyard-cache')).toBe('hit');
    expectNoKey(await cached.text());
    const retrieved = await getJson(`${router.url}/v1/responses/resp_k`);
    expect(retrieved.status).toBe(200);
    expectNoKey(JSON.stringify(retrieved.body));
  });

  it('is not in a cached stream either', async () => {
    const ask = { model: 'svc-model', input: 'cache me', cache: true };
    expect((await streamed('/v1/responses', ask)).cache).toBe('miss');
    const hit = await streamed('/v1/responses', ask);
    expect(hit.cache).toBe('hit');
    expectNoKey(hit.text);
  });

  it('leaves the stream of a target the router sent no key as it came', async () => {
    const { text } = await streamed('/v1/chat/completions', chat('keyless-model'));
    expect(text).toBe(echoingStream('/v1/chat/completions', '', 'keyless-model'));
  });

  it('never reaches the router log', () => {
    for (const key of STREAMED_KEYS) expect(router.lines.join('\n')).not.toContain(key);
  });
});

describe('StreamWithoutKey', () => {
  const key = 'sk-proj-0123456789abcdefWXYZ';
  const ok = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Hello.' } }] })}\n\n`;
  const error = `data: ${JSON.stringify({ error: { message: `bad key ${key}, shown as ${key.slice(0, 8)}****${key.slice(-4)} or sk-p…WXYZ` } })}\r\n\r\n`;
  const scrubbed = error.replace(key, REDACTED_KEY).replace(`${key.slice(0, 8)}****${key.slice(-4)}`, REDACTED_KEY).replace('sk-p…WXYZ', REDACTED_KEY);
  const relay = (stream: StreamWithoutKey, pieces: Buffer[]) => Buffer.concat([...pieces.map((piece) => stream.push(piece)), stream.end()]).toString();

  it('relays the same text, the key and its masked forms taken out, wherever the chunks split it', () => {
    const bytes = Buffer.from(ok + error + ok);
    for (let cut = 1; cut < bytes.length; cut++) {
      for (const second of [cut + 1, cut + 9]) {
        const pieces = [bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)];
        expect(relay(new StreamWithoutKey(key, 1 << 20), pieces), `cut at ${cut} and ${second}`).toBe(ok + scrubbed + ok);
      }
    }
  });

  it('takes out every masked form withoutKey does, however many characters of each end it keeps', () => {
    // past the public prefix `sk-proj-`, which tells no key from another
    for (let first = 0; first <= 4; first++) {
      const masked = `${key.slice(0, 8 + first)}****${first === 4 ? '' : key.slice(first - 4)}`;
      const line = Buffer.from(`data: {"error":{"message":"bad key ${masked}"}}\n\n`);
      expect(new StreamWithoutKey(key, 1 << 20).push(line).toString(), masked).toBe(`data: {"error":{"message":"bad key ${REDACTED_KEY}"}}\n\n`);
    }
  });

  it("relays a model's text that names the key's public prefix as the same bytes", () => {
    const chunk = Buffer.from(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'Run `export OPENAI_API_KEY=sk-proj-...` (keys look like sk-proj-****, sk-p…).' } }] })}\n\n`);
    expect(new StreamWithoutKey(key, 1 << 20).push(chunk)).toBe(chunk);
  });

  it('relays a chunk of whole lines that holds neither end of the key as the same bytes', () => {
    const stream = new StreamWithoutKey(key, 1 << 20);
    const chunk = Buffer.from(ok);
    expect(stream.push(chunk)).toBe(chunk);
    // a line cut short is held until its end arrives, then goes in one piece
    expect(stream.push(chunk.subarray(0, 10)).length).toBe(0);
    expect(stream.push(chunk.subarray(10)).toString()).toBe(ok);
  });

  it('searches each byte for a line end once, however many chunks a line comes in', () => {
    const bytes = Buffer.from(`data: ${JSON.stringify({ text: 'x'.repeat(20_000) })}\n\n`);
    const stream = new StreamWithoutKey(key, 1 << 20);
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 10) pieces.push(bytes.subarray(at, at + 10));
    let searched = 0;
    // the relay searches for line ends by byte value
    const buffers = Buffer.prototype as { lastIndexOf(value: number): number };
    const lastIndexOf = buffers.lastIndexOf;
    const spy = vi.spyOn(buffers, 'lastIndexOf').mockImplementation(function (this: Buffer, value: number) {
      searched += this.length;
      return lastIndexOf.call(this, value);
    });
    try {
      expect(relay(stream, pieces)).toBe(bytes.toString());
    } finally {
      spy.mockRestore();
    }
    expect(searched).toBeLessThan(3 * bytes.length);
  });

  it('holds no line longer than its limit', () => {
    const stream = new StreamWithoutKey(key, 100);
    stream.push(Buffer.from('data: '.padEnd(90, 'x')));
    expect(() => stream.push(Buffer.from('x'.repeat(20)))).toThrow(SseEventTooLargeError);
  });

  it('is none for a target the router sends no key, or a placeholder that keeps nothing secret, whose every occurrence in model text it would rewrite', () => {
    expect(streamWithoutKey(undefined, 1 << 20)).toBeUndefined();
    expect(streamWithoutKey('', 1 << 20)).toBeUndefined();
    for (const placeholder of ['EMPTY', 'none', 'sk-1234']) {
      expect(streamWithoutKey(placeholder, 1 << 20)).toBeUndefined();
      expect(withoutKey(`Set api_key to ${placeholder} for a local engine`, placeholder)).toBe(`Set api_key to ${placeholder} for a local engine`);
    }
    expect(withoutKey('key token-abc123 refused', 'token-abc123')).toBe(`key ${REDACTED_KEY} refused`);
  });
});
