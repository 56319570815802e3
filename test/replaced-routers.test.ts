import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';
import { startFakeOpenAi, type FakeOpenAi } from './support/fake-openai.js';
import { startRouter, stopAll } from './support/processes.js';

/**
 * What the users of the systems Switchyard replaces bring along unchanged: the provider router's
 * `.env` files, the InfiniLM router's clients, LiteLLM proxy clients.
 */

afterAll(stopAll);

describe("the provider router's .env: base URLs given as origins", () => {
  let fake: FakeOpenAi;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-origins-'));
    // As the replaced router documented them: origins, to which it appended each provider's API path.
    const env = {
      ...NO_PROVIDER_ENV,
      SQLITE_DB_PATH: join(dir, 'models.db'),
      OPENAI_BASE_URL: fake.url,
      EXTERNAL_OPENAI_KEY: 'sk-openai',
      OPENROUTER_BASE_URL: fake.url,
      EXTERNAL_OPENROUTER_KEY: 'sk-or',
      GROK_BASE_URL: `${fake.url}/`,
      EXTERNAL_GROK_KEY: 'gsk-groq',
    };
    expect((await runCli(['models', 'add', 'my-router-model', 'openrouter', fake.url], env, dir)).code).toBe(0);
    const router = await startRouter({ services: [] }, env);
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => fake.close());

  const pathFor = async (model: string) => {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    return fake.received.at(-1)!.url;
  };

  it("appends the API path the replaced router appended: OpenRouter's /api/v1, Groq's /openai/v1, OpenAI's /v1", async () => {
    expect(await pathFor('openrouter/meta-llama/llama-3-8b')).toBe('/api/v1/chat/completions');
    expect(await pathFor('grok-3')).toBe('/openai/v1/chat/completions');
    expect(await pathFor('gpt-4o-mini')).toBe('/v1/chat/completions');
  });

  it('does the same for a registry entry of that provider type', async () => {
    expect(await pathFor('my-router-model')).toBe('/api/v1/chat/completions');
  });
});
