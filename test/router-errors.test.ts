import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { postJson } from './support/http.js';
import { spawnCli, startRouter, startSim, stopAll, writeConfig, type Proc } from './support/processes.js';

const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

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

  it('400 on a missing or non-string model', async () => {
    const missing = await postJson(`${router.url}/v1/chat/completions`, { messages: [] });
    expectError(missing, 400, /model/);
    expect(missing.body.error.param).toBe('model');
    expectError(await postJson(`${router.url}/v1/chat/completions`, { model: 42, messages: [] }), 400, /model/);
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

  it('503 when the model is known but no service serving it is healthy', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('orphan')), 503, /orphan/);
  });

  it('504 when the backend does not answer in time', async () => {
    expectError(await postJson(`${router.url}/v1/chat/completions`, chat('slow')), 504, /0.5s/);
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
