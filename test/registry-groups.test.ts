import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatTarget } from './support/chat.js';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';
import { startRouter, startSim, stopAll, waitFor, writeConfig, type Proc } from './support/processes.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'switchyard-groups-')), 'models.db');

describe('model groups and fallbacks in the registry CLI', () => {
  const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: tempDb() };
  const list = async () => JSON.parse((await runCli(['models', 'list', '--json'], env)).stdout) as Array<Record<string, unknown>>;

  it('adds a group with weighted targets and fallbacks, lists it (table and JSON) and removes it', async () => {
    const added = await runCli(['models', 'add', 'team', '--target', 'llama3:8b', '--target', 'qwen@gpu-b:3', '--target', 'phi:0.5', '--fallbacks', 'small, tiny'], env);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('added team → llama3:8b:1,qwen@gpu-b:3,phi:0.5, falling back to small, tiny');
    expect((await runCli(['models', 'add', 'big', 'service', 'http://127.0.0.1:5000', '--fallbacks', 'team'], env)).code).toBe(0);

    const table = (await runCli(['models', 'list'], env)).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^NAME\s+TYPE\s+KIND\s+ENDPOINT\s+UPSTREAM\s+TARGETS\s+FALLBACKS\s+UPDATED$/);
    expect(table[1]).toMatch(/^big\s+service\s+api\s+http:\/\/127\.0\.0\.1:5000\s+-\s+-\s+team\s+\d{4}-/);
    expect(table[2]).toMatch(/^team\s+group\s+-\s+-\s+-\s+llama3:8b:1,qwen@gpu-b:3,phi:0\.5\s+small,tiny\s+\d{4}-/);

    expect(await list()).toEqual([
      expect.objectContaining({ name: 'big', type: 'service', endpoint: 'http://127.0.0.1:5000', targets: null, fallbacks: ['team'] }),
      expect.objectContaining({
        name: 'team',
        type: 'group',
        endpoint: null,
        kind: null,
        targets: [{ model: 'llama3:8b', weight: 1 }, { model: 'qwen', service: 'gpu-b', weight: 3 }, { model: 'phi', weight: 0.5 }],
        fallbacks: ['small', 'tiny'],
        created_at: expect.any(String),
      }),
    ]);

    // Adding a name again replaces the whole entry: the model row goes when it becomes a group.
    expect((await runCli(['models', 'add', 'big', '--target', 'phi'], env)).code).toBe(0);
    expect((await list()).find((e) => e.name === 'big')).toMatchObject({ type: 'group', endpoint: null, targets: [{ model: 'phi', weight: 1 }], fallbacks: [] });

    expect((await runCli(['models', 'remove', 'team'], env)).code).toBe(0);
    expect((await runCli(['models', 'remove', 'big'], env)).code).toBe(0);
    expect(await list()).toEqual([]);
  });

  it.each([
    [['m', '--target', 'a:0'], 'the weight must be a positive number'],
    [['m', '--target', 'a@:2'], 'the service after "@" must not be empty'],
    [['m', '--target', ':2'], 'expected MODEL[@SERVICE][:WEIGHT]'],
    [['m', '--target', 'a', '--fallbacks', 'b,,c'], 'expected comma-separated model names'],
    [['m', '--target', 'a', '--fallbacks', 'b,m'], '"m" cannot be its own fallback'],
    [['m', '--target', 'a', '--fallbacks', 'b,b'], 'fallback "b" is listed twice'],
    [['m', '--fallbacks', 'b'], 'give TYPE and ENDPOINT, or at least one --target'],
    [['m'], 'give TYPE and ENDPOINT, or at least one --target'],
    [['m', 'local', 'http://127.0.0.1:1', '--target', 'a'], 'not both'],
    [['m', 'service'], 'an ENDPOINT is required after the type "service"'],
  ])('refuses %j with a clear message and a non-zero exit', async (args, message) => {
    const result = await runCli(['models', 'add', ...args], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect((await list()).map((e) => e.name)).not.toContain('m');
  });
});

describe('registry groups in a running router', () => {
  let router: Proc;
  let heavy: Proc;
  let light: Proc;
  let failing: Proc;
  const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: tempDb() };

  const chat = (model: string) => chatTarget(router.url, model);
  const cli = async (...args: string[]) => expect((await runCli(['models', ...args], env)).code).toBe(0);

  beforeAll(async () => {
    [heavy, light, failing] = await Promise.all([
      startSim({ models: ['heavy', 'shared'], ttftMs: 1 }),
      startSim({ models: ['light', 'shared'], ttftMs: 1 }),
      startSim({ models: ['broken'], ttftMs: 1, failStatus: 500 }),
    ]);
    router = await startRouter(
      {
        services: [
          { name: 'sim-heavy', url: heavy.url },
          { name: 'sim-light', url: light.url },
          { name: 'sim-failing', url: failing.url },
        ],
        // A YAML group the registry overrides while it has an entry of the same name.
        model_groups: { both: { targets: [{ model: 'light' }] } },
        health_check: { failure_threshold: 1000 },
        cooldown: { failure_threshold: 1000 },
        retry: { backoff_base_ms: 1 },
      },
      env,
    );
  });
  afterAll(stopAll);

  it('serves a group added with the CLI, by weight across its targets, and stops after removal', async () => {
    expect((await chat('weighted')).status).toBe(404);
    await cli('add', 'weighted', '--target', 'heavy:3', '--target', 'light:1');
    await waitFor(async () => (await chat('weighted')).status === 200, 'the router to pick up the group');
    const targets = await Promise.all(Array.from({ length: 80 }, () => chat('weighted').then((r) => r.target)));
    const heavyCount = targets.filter((t) => t === 'sim-heavy').length;
    const lightCount = targets.filter((t) => t === 'sim-light').length;
    expect(heavyCount + lightCount).toBe(80);
    // Expected 60:20; these bounds fail by chance with a probability below 1e-6.
    expect(lightCount).toBeGreaterThan(0);
    expect(heavyCount).toBeGreaterThan(lightCount);
    expect((await (await fetch(`${router.url}/v1/models/weighted`)).json())).toMatchObject({ id: 'weighted' });

    await cli('remove', 'weighted');
    await waitFor(async () => (await chat('weighted')).status === 404, 'the removal to take effect');
  });

  it('pins a target to one service with MODEL@SERVICE', async () => {
    await cli('add', 'pinned', '--target', 'shared@sim-light');
    await waitFor(async () => (await chat('pinned')).status === 200, 'the router to pick up the pinned group');
    const targets = await Promise.all(Array.from({ length: 10 }, () => chat('pinned').then((r) => r.target)));
    expect(new Set(targets)).toEqual(new Set(['sim-light']));
  });

  it("falls back along the chain when the first model's only backend fails", async () => {
    expect((await chat('broken')).status).toBe(500);
    // A registry model whose only backend is the failing engine, with a fallback chain.
    await cli('add', 'primary', 'service', failing.url, '--fallbacks', 'broken,light');
    await waitFor(async () => (await chat('primary')).status === 200, 'the router to pick up the fallback chain');
    expect(await chat('primary')).toEqual({ status: 200, target: 'sim-light' });
    await cli('remove', 'primary');
    await waitFor(async () => (await chat('primary')).status === 404, 'the removal to take effect');
  });

  it('a registry entry replaces the YAML group of the same name while it exists', async () => {
    expect(await chat('both')).toEqual({ status: 200, target: 'sim-light' });
    await cli('add', 'both', '--target', 'heavy');
    await waitFor(async () => (await chat('both')).target === 'sim-heavy', 'the registry group to win');
    await cli('remove', 'both');
    await waitFor(async () => (await chat('both')).target === 'sim-light', 'the YAML group to return');
  });

  it('explains a group the way requests route it: POST /route/explain and switchyard route show its weighted targets and fallbacks', async () => {
    await cli('add', 'explained', '--target', 'heavy:3', '--target', 'shared@sim-light:1', '--fallbacks', 'light');
    await waitFor(async () => (await chat('explained')).status === 200, 'the router to pick up the group');
    const explain = (model: string) =>
      fetch(`${router.url}/route/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });
    const answer = await explain('explained');
    expect(answer.status).toBe(200);
    const explained = (await answer.json()) as { resolution: string; chain: Array<{ model: string; targets: Array<{ candidates: Array<{ name: string }> }> }> };
    expect(explained).toMatchObject({
      model: 'explained',
      chain: [
        { model: 'explained', targets: [{ model: 'heavy', weight: 3, target: 'sim-heavy' }, { model: 'shared', service: 'sim-light', weight: 1, target: 'sim-light' }] },
        { model: 'light', targets: [{ model: 'light', weight: 1, target: 'sim-light' }] },
      ],
    });
    expect(explained.chain[0]!.targets[1]!.candidates.map((c) => c.name)).toEqual(['sim-light']);
    expect(explained.resolution).toContain('light');
    // Nothing of the chain routable: the answer a request gets.
    await cli('add', 'nowhere', '--target', 'no-such-model');
    await waitFor(async () => (await chat('nowhere')).status === 404, 'the router to pick up the unroutable group');
    expect((await explain('nowhere')).status).toBe(404);

    // Offline, from the same database and a config with the same services and a YAML group.
    const config = writeConfig({
      services: [
        { name: 'sim-heavy', url: heavy.url, models: ['heavy', 'shared'] },
        { name: 'sim-light', url: light.url, models: ['light', 'shared'] },
      ],
      model_groups: { yaml: { targets: [{ model: 'light' }] } },
    });
    const routed = await runCli(['route', 'explained', '--config', config, '--json'], env);
    expect(routed.code).toBe(0);
    expect(JSON.parse(routed.stdout)).toMatchObject({
      model: 'explained',
      routable: true,
      chain: [
        {
          model: 'explained',
          targets: [
            { model: 'heavy', weight: 3, routable: true, targets: [{ name: 'sim-heavy' }] },
            { model: 'shared', service: 'sim-light', weight: 1, routable: true, targets: [{ name: 'sim-light' }] },
          ],
        },
        { model: 'light', targets: [{ model: 'light', weight: 1, routable: true, targets: [{ name: 'sim-light' }] }] },
      ],
    });
    expect((JSON.parse(routed.stdout) as { chain: Array<{ targets: Array<{ targets: unknown[] }> }> }).chain[0]!.targets[1]!.targets).toHaveLength(1);
    const text = await runCli(['route', 'explained', '--config', config], env);
    expect(text.stdout).toContain("group:   explained\n  heavy (weight 3)");
    expect(text.stdout).toContain('fallback: light');
    const yaml = await runCli(['route', 'yaml', '--config', config, '--json'], env);
    expect(yaml.code).toBe(0);
    expect(JSON.parse(yaml.stdout)).toMatchObject({ routable: true, chain: [{ model: 'yaml', targets: [{ model: 'light', targets: [{ name: 'sim-light' }] }] }] });
    const unroutable = await runCli(['route', 'nowhere', '--config', config, '--json'], env);
    expect(unroutable.code).toBe(1);
    expect(JSON.parse(unroutable.stdout)).toMatchObject({ routable: false, error: { status: 404 } });
  });
});
