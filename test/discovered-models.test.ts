import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV } from './support/cli.js';
import { startFakeOpenAi, type FakeOpenAi } from './support/fake-openai.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

const chat = (router: Proc, model: string) =>
  fetch(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'secret prompt' }], max_tokens: 2 }),
  });

describe('models discovered on a service without a models list', () => {
  let openai: FakeOpenAi;
  beforeAll(async () => {
    openai = await startFakeOpenAi();
  });
  afterAll(async () => {
    await stopAll();
    await openai.close();
  });

  it('are still known after a restart while the engine is down: 503, never a detour to the provider whose prefix rule matches', async () => {
    const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-discovered-')), 'models.db'), OPENAI_BASE_URL: `${openai.url}/v1`, EXTERNAL_OPENAI_KEY: 'sk-company' };
    const engine = await startSim({ models: ['gpt-oss-20b'] });
    const config = { services: [{ name: 'engine', url: engine.url }] };

    const first = await startRouter(config, env);
    const served = await chat(first, 'gpt-oss-20b');
    expect(served.status).toBe(200);
    expect(served.headers.get('x-switchyard-target')).toBe('engine');
    await first.stop('SIGTERM');
    await engine.stop();

    const second = await startRouter(config, env);
    const refused = await chat(second, 'gpt-oss-20b');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('no_healthy_backend');
    expect(openai.received).toEqual([]);
    await second.stop();
  });
});
