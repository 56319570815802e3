import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';
import { startFakeOpenAi, type FakeOpenAi } from './support/fake-openai.js';
import { closedLoopbackPort } from './support/http.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'switchyard-registry-')), 'models.db');

describe('switchyard models CLI', () => {
  const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: tempDb() };

  it('adds, lists (table and JSON) and removes entries', async () => {
    const added = await runCli(['models', 'add', 'my-llama', 'local', 'http://127.0.0.1:5000', 'weight'], env);
    expect(added.code).toBe(0);
    await runCli(['models', 'add', 'gpt-x', 'openai', 'https://api.openai.com/v1'], env);

    const table = await runCli(['models', 'list'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+TYPE\s+KIND\s+ENDPOINT/);
    expect(lines[1]).toMatch(/^gpt-x\s+openai\s+api\s+https:\/\/api\.openai\.com\/v1/);
    expect(lines[2]).toMatch(/^my-llama\s+local\s+weight\s+http:\/\/127\.0\.0\.1:5000/);

    const json = JSON.parse((await runCli(['models', 'list', '--json'], env)).stdout) as Array<Record<string, unknown>>;
    expect(json.map((m) => [m.name, m.type, m.kind])).toEqual([['gpt-x', 'openai', 'api'], ['my-llama', 'local', 'weight']]);
    expect(json[0]!.created_at).toEqual(expect.any(String));

    expect((await runCli(['models', 'remove', 'gpt-x'], env)).code).toBe(0);
    const after = JSON.parse((await runCli(['models', 'list', '--json'], env)).stdout) as Array<{ name: string }>;
    expect(after.map((m) => m.name)).toEqual(['my-llama']);
  });

  it('refuses unknown types, kinds, non-HTTP URLs, names with spaces around them or that no request may carry, and unknown names with a message and a non-zero exit', async () => {
    const badType = await runCli(['models', 'add', 'm', 'nonsense', 'http://127.0.0.1:1'], env);
    expect(badType.code).not.toBe(0);
    expect(badType.stderr).toContain('unknown model type "nonsense"');
    const badUrl = await runCli(['models', 'add', 'm', 'local', 'ftp://127.0.0.1/'], env);
    expect(badUrl.code).not.toBe(0);
    expect(badUrl.stderr).toContain('must be an http:// or https:// URL');
    const badKind = await runCli(['models', 'add', 'm', 'local', 'http://127.0.0.1:1', 'gguf'], env);
    expect(badKind.code).not.toBe(0);
    expect(badKind.stderr).toContain('unknown model kind "gguf"');
    for (const name of [' m', 'm ']) {
      const spaced = await runCli(['models', 'add', name, '--target', 'x'], env);
      expect(spaced.code).toBe(1);
      expect(spaced.stderr).toBe(`switchyard: model name "${name}" must not start or end with spaces\n`);
    }
    // Names no request may carry would never be asked for; their control characters are not echoed to the terminal.
    for (const args of [['m\u001b[2J', 'local', 'http://127.0.0.1:1'], ['m'.repeat(257), '--target', 'x'], ['g', '--target', 'x\u0007:2'], ['g', '--target', 'x', '--fallbacks', 'y,z\u0007']]) {
      const refused = await runCli(['models', 'add', ...args], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^switchyard: model name ".+" is not one a request may carry: a model name has at most 256 characters, no control characters/);
      expect(refused.stderr).not.toMatch(/[\u0007\u001b]/);
    }
    const missing = await runCli(['models', 'remove', 'never-added'], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no model named "never-added"');
    const list = JSON.parse((await runCli(['models', 'list', '--json'], env)).stdout) as Array<{ name: string }>;
    for (const refused of ['m', 'g', 'm\u001b[2J']) expect(list.map((m) => m.name)).not.toContain(refused);
  });

  describe('refresh-openai', () => {
    let fake: FakeOpenAi;
    beforeAll(async () => {
      fake = await startFakeOpenAi(['gpt-4o-mini', 'o3-mini']);
    });
    afterAll(() => fake.close());

    it('imports the model list of OPENAI_BASE_URL, read with EXTERNAL_OPENAI_KEY', async () => {
      const refreshEnv = { ...env, SQLITE_DB_PATH: tempDb(), OPENAI_BASE_URL: `${fake.url}/v1`, EXTERNAL_OPENAI_KEY: 'sk-refresh' };
      const result = await runCli(['models', 'refresh-openai'], refreshEnv);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('imported 2');
      expect(fake.received.at(-1)).toMatchObject({ method: 'GET', url: '/v1/models' });
      expect(fake.received.at(-1)!.headers.authorization).toBe('Bearer sk-refresh');
      const list = JSON.parse((await runCli(['models', 'list', '--json'], refreshEnv)).stdout) as Array<Record<string, unknown>>;
      expect(list.map((m) => [m.name, m.type, m.endpoint])).toEqual([
        ['gpt-4o-mini', 'openai', `${fake.url}/v1`],
        ['o3-mini', 'openai', `${fake.url}/v1`],
      ]);
    });

    it('keeps existing entries of the same name that point elsewhere, and says so; --force replaces them whole', async () => {
      const refreshEnv = { ...env, SQLITE_DB_PATH: tempDb(), OPENAI_BASE_URL: `${fake.url}/v1`, EXTERNAL_OPENAI_KEY: 'sk-refresh' };
      expect((await runCli(['models', 'add', 'gpt-4o-mini', 'openrouter', 'https://openrouter.example/api/v1'], refreshEnv)).code).toBe(0);
      expect((await runCli(['models', 'add', 'o3-mini', '--target', 'gpt-4o-mini:1'], refreshEnv)).code).toBe(0);
      const before = (await runCli(['models', 'list', '--json'], refreshEnv)).stdout;

      const kept = await runCli(['models', 'refresh-openai'], refreshEnv);
      expect(kept.code).toBe(0);
      expect(kept.stdout).toContain('imported 0 OpenAI models');
      expect(kept.stdout).toContain('kept 2 existing entries that point elsewhere (--force replaces them)');
      expect(kept.stdout).toContain('gpt-4o-mini: openrouter https://openrouter.example/api/v1');
      expect(kept.stdout).toContain('o3-mini: group → gpt-4o-mini:1');
      expect((await runCli(['models', 'list', '--json'], refreshEnv)).stdout).toBe(before);

      const forced = await runCli(['models', 'refresh-openai', '--force'], refreshEnv);
      expect(forced.code).toBe(0);
      expect(forced.stdout.trim()).toBe('imported 2 OpenAI models');
      const list = JSON.parse((await runCli(['models', 'list', '--json'], refreshEnv)).stdout) as Array<Record<string, unknown>>;
      expect(list.map((m) => [m.name, m.type, m.endpoint, m.targets])).toEqual([
        ['gpt-4o-mini', 'openai', `${fake.url}/v1`, null],
        ['o3-mini', 'openai', `${fake.url}/v1`, null],
      ]);
    });

    it('refreshes entries that point at OPENAI_BASE_URL spelled another way (a bare origin means its /v1)', async () => {
      const refreshEnv = { ...env, SQLITE_DB_PATH: tempDb(), OPENAI_BASE_URL: `${fake.url}/v1`, EXTERNAL_OPENAI_KEY: 'sk-refresh' };
      expect((await runCli(['models', 'add', 'gpt-4o-mini', 'openai', fake.url], refreshEnv)).code).toBe(0);
      expect((await runCli(['models', 'add', 'o3-mini', 'openai', `${fake.url}/v1/`], refreshEnv)).code).toBe(0);
      const refreshed = await runCli(['models', 'refresh-openai'], refreshEnv);
      expect(refreshed.stdout.trim()).toBe('imported 2 OpenAI models');
      const list = JSON.parse((await runCli(['models', 'list', '--json'], refreshEnv)).stdout) as Array<Record<string, unknown>>;
      expect(list.map((m) => [m.name, m.endpoint])).toEqual([
        ['gpt-4o-mini', `${fake.url}/v1`],
        ['o3-mini', `${fake.url}/v1`],
      ]);
    });

    it('says why OPENAI_BASE_URL cannot be reached', async () => {
      const url = `http://127.0.0.1:${await closedLoopbackPort()}/v1`;
      const result = await runCli(['models', 'refresh-openai'], { ...env, OPENAI_BASE_URL: url, EXTERNAL_OPENAI_KEY: 'sk-test' });
      expect(result.stderr).toBe(`switchyard: cannot reach ${url}/models: ECONNREFUSED\n`);
      expect(result.code).toBe(1);
    });

    it('refuses without a key, naming the variable', async () => {
      const result = await runCli(['models', 'refresh-openai'], { ...env, OPENAI_BASE_URL: `${fake.url}/v1` });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('EXTERNAL_OPENAI_KEY');
    });
  });
});

describe('registry in a running router', () => {
  let sim: Proc;
  let other: Proc;
  const dbPath = tempDb();
  const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: dbPath };

  beforeAll(async () => {
    [sim, other] = await Promise.all([startSim({ models: ['cli-added', 'persisted', 'shared-name'] }), startSim({ models: ['shared-name'] })]);
  });
  afterAll(stopAll);

  const chat = (router: Proc, model: string) =>
    new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
      .withResponse();

  it('serves a model added with the CLI within seconds, without a restart, and stops after removal', async () => {
    const router = await startRouter({ services: [] }, env);
    await expect(chat(router, 'cli-added')).rejects.toMatchObject({ status: 404 });

    expect((await runCli(['models', 'add', 'cli-added', 'service', sim.url], env)).code).toBe(0);
    const { response } = await waitFor(() => chat(router, 'cli-added').catch(() => undefined), 'the router to pick up the CLI-added model');
    expect(response.headers.get('x-switchyard-target')).toBe('registry:cli-added');

    expect((await runCli(['models', 'remove', 'cli-added'], env)).code).toBe(0);
    await waitFor(() => chat(router, 'cli-added').then(() => undefined, (error: { status?: number }) => error.status === 404 || undefined), 'the removal to take effect');
    await router.stop();
  });

  it('keeps registry entries across router restarts', async () => {
    expect((await runCli(['models', 'add', 'persisted', 'service', sim.url], env)).code).toBe(0);
    const first = await startRouter({ services: [] }, env);
    expect((await chat(first, 'persisted')).data.choices).toHaveLength(1);
    await first.stop('SIGTERM');
    const second = await startRouter({ services: [] }, env);
    const { response } = await chat(second, 'persisted');
    expect(response.headers.get('x-switchyard-target')).toBe('registry:persisted');
    const listed = (await (await fetch(`${second.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((m) => m.id)).toContain('persisted');
    await second.stop();
  });

  it('prefers an exact registry entry over a service serving the same model', async () => {
    expect((await runCli(['models', 'add', 'shared-name', 'service', sim.url], env)).code).toBe(0);
    const router = await startRouter({ services: [{ name: 'svc', url: other.url }] }, env);
    const { response } = await chat(router, 'shared-name');
    expect(response.headers.get('x-switchyard-target')).toBe('registry:shared-name');
    await router.stop();
  });
});
