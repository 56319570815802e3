import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodyWithoutKey } from '../src/gateway/relay.js';
import { REDACTED_KEY } from '../src/providers/key-echo.js';
import { NO_PROVIDER_ENV } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { errorReply, startFakeProvider, type FakeProvider, type FakeReply } from './support/fake-provider.js';
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
