import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { createLogger } from '../src/observability/logger.js';
import type { Backend } from '../src/fleet/backend.js';
import type { InferenceRequest } from '../src/gateway/inference-request.js';
import { resolveModel } from '../src/gateway/resolve.js';
import { explainRoute } from '../src/registry/explain-route.js';
import { addModel, refreshOpenAiModels } from '../src/registry/model-commands.js';
import { buildRoutingTable } from '../src/registry/routing-table.js';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';

interface Explanation {
  routable: boolean;
  rule?: string;
  reason: string;
  targets?: Array<{ name: string; url: string; upstream_model: string }>;
  error?: { status: number; message: string };
}

const route = async (model: string, env: NodeJS.ProcessEnv, cwd?: string) => {
  const dir = cwd ?? mkdtempSync(join(tmpdir(), 'switchyard-route-'));
  const result = await runCli(['route', model, '--json'], { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(dir, 'models.db'), ...env }, dir);
  return JSON.parse(result.stdout) as Explanation;
};

describe('provider configuration', () => {
  it('reads ./.env, without overriding variables already set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-dotenv-'));
    writeFileSync(join(dir, '.env'), 'OPENAI_BASE_URL=http://127.0.0.1:9/from-dotenv/v1\nEXTERNAL_OPENAI_KEY=sk-from-dotenv\nLLMD_ENDPOINT=http://127.0.0.1:9/dotenv-llmd\n');
    // NO_PROVIDER_ENV blanks these variables; delete them so that only .env provides them.
    const unset = { OPENAI_BASE_URL: undefined, EXTERNAL_OPENAI_KEY: undefined, LLMD_ENDPOINT: undefined };
    const fromFile = await route('gpt-4o', unset, dir);
    expect(fromFile).toMatchObject({ routable: true, targets: [{ name: 'provider:openai', url: 'http://127.0.0.1:9/from-dotenv/v1' }] });
    const overridden = await route('llmd-granite', { ...unset, LLMD_ENDPOINT: 'http://127.0.0.1:9/real-env' }, dir);
    expect(overridden).toMatchObject({ routable: true, targets: [{ name: 'provider:llm-d', url: 'http://127.0.0.1:9/real-env' }] });
  });

  it('routes llmd-* only when LLMD_ENDPOINT is set', async () => {
    expect(await route('llmd-granite', {})).toMatchObject({ routable: false, error: { status: 404 } });
    expect(await route('llmd-granite', { LLMD_ENDPOINT: 'http://127.0.0.1:9' })).toMatchObject({ routable: true, rule: 'llmd-* → llm-d' });
  });

  it('applies the prefix rules of the replaced router', () => {
    const keys = Object.fromEntries(['OPENAI', 'ANTHROPIC', 'GOOGLE', 'OPENROUTER', 'GROK', 'VENICE'].map((p) => [`EXTERNAL_${p}_KEY`, 'k']));
    // In process: the same routing table `serve` and `switchyard route` build, over an in-memory store.
    const table = buildRoutingTable(parseConfig({ database_path: ':memory:' }, { ...NO_PROVIDER_ENV, ...keys }), createLogger('silent'));
    const expected: Array<[string, string, string]> = [
      ['local-mistral', 'local', 'local-mistral'],
      ['gpt-4o', 'openai', 'gpt-4o'],
      ['o1-preview', 'openai', 'o1-preview'],
      ['o4-mini', 'openai', 'o4-mini'],
      ['text-embedding-3-small', 'openai', 'text-embedding-3-small'],
      ['claude-sonnet-4', 'anthropic', 'claude-sonnet-4'],
      ['gemini-2.0-flash', 'google', 'gemini-2.0-flash'],
      ['google/gemini-2.0-flash', 'google', 'gemini-2.0-flash'],
      ['openrouter/anthropic/claude-3', 'openrouter', 'anthropic/claude-3'],
      ['grok-3', 'grok', 'grok-3'],
      ['venice-uncensored', 'venice', 'venice-uncensored'],
    ];
    for (const [model, provider, upstream] of expected) {
      expect(explainRoute(model, table), model).toMatchObject({ routable: true, targets: [{ name: `provider:${provider}`, upstream_model: upstream }] });
    }
    expect(explainRoute('mistral-7b', table)).toMatchObject({ routable: false, error: { status: 404 } });
    table.db.close();
  });

  it('puts a service serving a model before the prefix rules, and does not detour to a provider when it is down', () => {
    const config = parseConfig(
      { database_path: ':memory:', services: [{ name: 'house', url: 'http://127.0.0.1:9', models: ['gpt-4o'] }] },
      { ...NO_PROVIDER_ENV, EXTERNAL_OPENAI_KEY: 'k' },
    );
    const table = buildRoutingTable(config, createLogger('silent'));
    expect(explainRoute('gpt-4o', table)).toMatchObject({ routable: true, targets: [{ name: 'house' }] });
    expect(explainRoute('gpt-4o-mini', table)).toMatchObject({ routable: true, targets: [{ name: 'provider:openai' }] });
    table.fleet.setHealth(table.fleet.get('house')!, false);
    expect(resolveModel('gpt-4o', table)).toMatchObject({ error: { status: 503 } });
    table.db.close();
  });

  it('holds prefix rules back while a service in discovery mode has never said which models it serves', () => {
    const config = parseConfig({ database_path: ':memory:', services: [{ name: 'fresh', url: 'http://127.0.0.1:9' }] }, { ...NO_PROVIDER_ENV, EXTERNAL_OPENAI_KEY: 'k' });
    const table = buildRoutingTable(config, createLogger('silent'));
    // First start, engine down, nothing stored: 'gpt-oss-20b' may well be its model.
    expect(resolveModel('gpt-oss-20b', table)).toMatchObject({ error: { status: 503, code: 'models_not_yet_known', message: expect.stringContaining("'fresh'") } });
    expect(explainRoute('gpt-oss-20b', table)).toMatchObject({ routable: false, error: { status: 503 } });
    // Names no prefix rule matches are unaffected.
    expect(resolveModel('mistral-7b', table)).toMatchObject({ error: { status: 404 } });
    // Once it has answered (an empty list counts), the rules apply to what it does not serve.
    table.fleet.setModels(table.fleet.get('fresh')!, []);
    expect(explainRoute('gpt-oss-20b', table)).toMatchObject({ routable: true, targets: [{ name: 'provider:openai' }] });
    table.db.close();
  });

  it('answers 503 for a registry entry of a provider without its key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-route-'));
    const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(dir, 'models.db') };
    expect((await runCli(['models', 'add', 'house-model', 'anthropic', 'http://127.0.0.1:9'], env)).code).toBe(0);
    expect(await route('house-model', {}, dir)).toMatchObject({ routable: false, error: { status: 503, message: expect.stringContaining('EXTERNAL_ANTHROPIC_KEY') } });
    expect(await route('house-model', { EXTERNAL_ANTHROPIC_KEY: 'k' }, dir)).toMatchObject({ routable: true, targets: [{ name: 'registry:house-model', url: 'http://127.0.0.1:9' }] });
  });

  it("sends Anthropic targets' default_max_tokens when the client sets no limit: services and the providers section", () => {
    const config = parseConfig(
      {
        database_path: ':memory:',
        services: [
          { name: 'claude-long', url: 'http://127.0.0.1:9', provider: 'anthropic', models: ['claude-long'], default_max_tokens: 64000 },
          { name: 'claude-plain', url: 'http://127.0.0.1:9', provider: 'anthropic', models: ['claude-plain'] },
        ],
        providers: { anthropic: { default_max_tokens: 32000 } },
      },
      { ...NO_PROVIDER_ENV, EXTERNAL_ANTHROPIC_KEY: 'k' },
    );
    const table = buildRoutingTable(config, createLogger('silent'));
    const body = { model: '', messages: [{ role: 'user', content: 'hi' }] };
    const prefixRule = table.providers.route('anthropic');
    const backends: Record<string, Backend | undefined> = {
      'claude-long': table.fleet.get('claude-long'),
      'claude-plain': table.fleet.get('claude-plain'),
      'claude-sonnet-4-5': prefixRule && 'backends' in prefixRule ? prefixRule.backends[0] : undefined,
    };
    const sentMaxTokens = (model: string) => {
      const backend = backends[model]!;
      const request = { id: 'r', endpoint: 'chat', model, stream: false, body: { ...body, model }, raw: Buffer.alloc(0), headers: {}, startedAt: 0 } satisfies InferenceRequest;
      return (JSON.parse(String(backend.adapter.request(request, backend, model).body)) as { max_tokens: number }).max_tokens;
    };
    expect(sentMaxTokens('claude-long')).toBe(64000);
    expect(sentMaxTokens('claude-plain')).toBe(4096);
    expect(sentMaxTokens('claude-sonnet-4-5')).toBe(32000);
    table.db.close();
  });

  it.each([
    [{ services: [{ name: 'g', url: 'http://127.0.0.1:9', provider: 'gemini', models: ['g'], default_max_tokens: 1000 }] }, 'services.0.default_max_tokens: default_max_tokens applies only to Anthropic'],
    [{ services: [{ name: 'c', url: 'http://127.0.0.1:9', provider: 'anthropic', models: ['c'], default_max_tokens: 0 }] }, 'services.0.default_max_tokens: must be a positive number of tokens'],
    [{ services: [{ name: 'c', url: 'http://127.0.0.1:9', provider: 'anthropic', models: ['c'], default_max_tokens: 'lots' }] }, 'services.0.default_max_tokens: must be a whole number of tokens'],
    [{ services: [{ name: 'c', url: 'http://127.0.0.1:9', provider: 'anthropic', models: ['c'], default_max_tokens: 1.5 }] }, 'services.0.default_max_tokens: must be a whole number of tokens'],
    [{ providers: { openai: { default_max_tokens: 1000 } } }, 'providers.openai.default_max_tokens: default_max_tokens applies only to Anthropic'],
  ])('refuses default_max_tokens in %j with a message naming it', (yaml, message) => {
    expect(() => parseConfig({ database_path: ':memory:', ...yaml }, NO_PROVIDER_ENV)).toThrow(ConfigError);
    expect(() => parseConfig({ database_path: ':memory:', ...yaml }, NO_PROVIDER_ENV)).toThrow(message);
  });

  it('names the variable a ${VAR} key of the YAML reads, not the default one, when it is unset', async () => {
    const yaml = { database_path: ':memory:', providers: { grok: { api_key: '${SOME_OTHER_VAR}' }, openai: { api_key: '${MY_OPENAI_KEY:-}' } } };
    const config = parseConfig(yaml, NO_PROVIDER_ENV);
    const table = buildRoutingTable(config, createLogger('silent'));
    // the start-up warning lists these
    expect(table.providers.missingKeys).toEqual(expect.arrayContaining([{ provider: 'grok', variable: 'SOME_OTHER_VAR' }, { provider: 'openai', variable: 'MY_OPENAI_KEY' }]));
    const missing = { routable: false, error: { status: 503, message: "The provider 'grok' is not configured: set SOME_OTHER_VAR" } };
    expect(explainRoute('grok-3', table)).toMatchObject(missing);
    addModel(table.db, 'house-grok', 'grok', 'http://127.0.0.1:9', undefined);
    table.registry.reload();
    expect(explainRoute('house-grok', table)).toMatchObject(missing);
    await expect(refreshOpenAiModels(table.db, config.providers)).rejects.toThrow('cannot list OpenAI models: set MY_OPENAI_KEY');
    table.db.close();

    // The default variable still supplies the key, and a literal empty key names it.
    const defaults = buildRoutingTable(parseConfig({ ...yaml, providers: { ...yaml.providers, venice: { api_key: '' } } }, { ...NO_PROVIDER_ENV, EXTERNAL_GROK_KEY: 'k' }), createLogger('silent'));
    expect(explainRoute('grok-3', defaults)).toMatchObject({ routable: true });
    expect(explainRoute('venice-uncensored', defaults)).toMatchObject({ routable: false, error: { message: expect.stringContaining('set EXTERNAL_VENICE_KEY') } });
    defaults.db.close();
  });
});
