import OpenAI from 'openai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { errorReply, startFakeProvider } from './support/fake-provider.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';

const SYSTEM = (group: string) => `${group}: you answer questions about the timetable of the freight yard, politely and briefly. `.repeat(30);

const CLI = join(import.meta.dirname, '../dist/cli.js');

describe('cache-aware routing over simulated engines (real processes)', () => {
  let sims: Proc[];
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    sims = await Promise.all([0, 1, 2].map(() => startSim({ models: ['m'], ttftMs: 0, extra: ['--kv-blocks', '512'] })));
    router = await startRouter({ routing: { policy: 'cache-aware' }, services: sims.map((s, i) => ({ name: `e${i}`, url: s.url })) });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  const ask = (group: string, question: string) =>
    client.chat.completions
      .create({ model: 'm', max_tokens: 4, messages: [{ role: 'system', content: SYSTEM(group) }, { role: 'user', content: question }] })
      .withResponse();

  it('concentrates a shared prefix on one replica, whose engine then serves it from its prefix cache', async () => {
    const targets: string[] = [];
    const cached: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { data, response } = await ask('alpha', `question number ${i}?`);
      assertConforms('CreateChatCompletionResponse', data);
      targets.push(response.headers.get('x-switchyard-target')!);
      cached.push(data.usage!.prompt_tokens_details!.cached_tokens!);
    }
    expect(new Set(targets).size).toBe(1);
    expect(cached[0]).toBe(0);
    expect(Math.min(...cached.slice(1))).toBeGreaterThan(100);

    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; affinity_hits: number; routed: number }> };
    expect(stats.services.find((s) => s.name === targets[0])).toMatchObject({ affinity_hits: 5, routed: 6 });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toContain(`switchyard_routing_affinity_hits_total{target="${targets[0]}"} 5`);

    const engine = sims[Number(targets[0]!.slice(1))]!;
    const engineMetrics = await (await fetch(`${engine.url}/metrics`)).text();
    const hits = Number(/vllm:prefix_cache_hits_total\{[^}]*\} (\d+)/.exec(engineMetrics)?.[1]);
    expect(hits).toBeGreaterThan(500);
  });

  it('spreads distinct prefixes across replicas', async () => {
    const answers = await Promise.all(['beta', 'gamma', 'delta'].map((group) => ask(group, 'first?')));
    expect(new Set(answers.map((a) => a.response.headers.get('x-switchyard-target'))).size).toBe(3);
  });

  it('explains a choice without routing anything', async () => {
    const before = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ routed: number }> };
    const response = await fetch(`${router.url}/route/explain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'system', content: SYSTEM('alpha') }, { role: 'user', content: 'new?' }] }),
    });
    const explained = (await response.json()) as { policy: string; reason: string; target: string; candidates: unknown[] };
    expect(explained).toMatchObject({ policy: 'cache-aware', reason: 'prefix-match' });
    expect(explained.candidates).toHaveLength(3);
    const after = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ routed: number }> };
    expect(after.services.map((s) => s.routed)).toEqual(before.services.map((s) => s.routed));
  });

  it('explains a prompt from the command line: switchyard route MODEL --prompt TEXT --url', async () => {
    const prompt = 'Where does this long question about freight timetables go? '.repeat(40);
    await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: prompt }], max_tokens: 2 }) });
    const result = spawnSync(process.execPath, [CLI, 'route', 'm', '--prompt', prompt, '--url', router.url, '--json'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as { policy: string; reason: string; target: string; resolution: string };
    expect(answer).toMatchObject({ policy: 'cache-aware', reason: 'prefix-match', resolution: expect.stringMatching(/served by a configured service/) });
    const text = spawnSync(process.execPath, [CLI, 'route', 'm', '--prompt', prompt, '--url', router.url], { encoding: 'utf8' });
    expect(text.stdout).toContain(`m → ${answer.target}`);
  });

  it('reads each engine queue from its vLLM-style /metrics into /stats', async () => {
    const stats = await waitFor(async () => {
      const body = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ engine: { running: number; waiting: number; kv_cache_usage: number } | null }> };
      return body.services.every((s) => s.engine !== null) ? body : undefined;
    }, 'engine metrics in /stats');
    expect(stats.services[0]!.engine).toEqual({ running: expect.any(Number), waiting: expect.any(Number), kv_cache_usage: expect.any(Number) });
  });

  it('answers a bad explain request with a 4xx in the OpenAI error shape', async () => {
    const explain = (body: unknown) => fetch(`${router.url}/route/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refusals: Array<[unknown, string | null, string]> = [
      [{ model: 'm' }, 'messages', 'missing_required_parameter'],
      [[{ model: 'm', messages: [{ role: 'user', content: 'hi' }] }], null, 'must be a JSON object'],
      [{ model: 5, messages: [{ role: 'user', content: 'hi' }] }, 'model', 'invalid_type'],
      [{ model: ['m'], prompt: 'x' }, 'model', 'invalid_type'],
      [{ model: 'm', messages: 'hi' }, 'messages', 'invalid_type'],
    ];
    for (const [body, param, expected] of refusals) {
      const refused = await explain(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      const { error } = (await refused.json()) as { error: { message: string; param: string | null; code: string | null } };
      assertConforms('ErrorResponse', { error });
      expect(error.param, JSON.stringify(body)).toBe(param);
      expect(`${error.code} ${error.message}`, JSON.stringify(body)).toContain(expected);
    }
    expect((await explain({ model: 'nope', prompt: 'x' })).status).toBe(404);
  });
});

describe('a model group over a model with its own routing policy', () => {
  afterAll(stopAll);

  it("feeds what a request served through the group taught back to the served model's policy", async () => {
    const sim = await startSim({ models: ['m3'], ttftMs: 5 });
    const router = await startRouter({
      routing: { policy: 'round-robin', models: { m3: 'latency' } },
      model_groups: { lgrp: { targets: [{ model: 'm3', weight: 1 }] } },
      services: [{ name: 'gpu-1', url: sim.url }],
    });
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    for await (const _ of await client.chat.completions.create({ model: 'lgrp', stream: true, max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }));
    const explained = await fetch(`${router.url}/route/explain`, { method: 'POST', body: JSON.stringify({ model: 'm3', messages: [{ role: 'user', content: 'hi' }] }) });
    const { details } = (await explained.json()) as { details: { ttft_ewma_s: number | null } };
    expect(details.ttft_ewma_s).toBeGreaterThan(0);
  });
});

describe('routing feedback along a model group chain (real processes)', () => {
  afterAll(stopAll);

  it("releases what the first step's policy claimed when its target failed and the request fell back", async () => {
    const failing = await startFakeProvider(() => errorReply(500, { message: 'internal', type: 'server_error' }));
    const sim = await startSim({ models: ['spare'], ttftMs: 1 });
    const router = await startRouter({
      routing: { policy: 'round-robin', models: { chain: 'cache-aware' } },
      model_groups: { chain: { targets: [{ model: 'flaky' }], fallbacks: ['spare'] } },
      services: [{ name: 'flaky-svc', url: failing.url, models: ['flaky'] }, { name: 'spare-sim', url: sim.url }],
      health_check: { failure_threshold: 1000 },
      cooldown: { failure_threshold: 1000 },
      retry: { max_attempts: 2, backoff_base_ms: 5 },
    });
    try {
      const body = { model: 'chain', max_tokens: 100, messages: [{ role: 'system', content: SYSTEM('chain') }, { role: 'user', content: 'when is the next train?' }] };
      const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(body) });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-switchyard-target')).toBe('spare-sim');
      expect(failing.requests).toBe(2);
      const explained = (await (await fetch(`${router.url}/route/explain`, { method: 'POST', body: JSON.stringify(body) })).json()) as {
        chain: Array<{ targets: Array<{ policy: string; target: string; details: { pending_tokens: number } }> }>;
      };
      // The expected completion (max_tokens) stayed claimed on the failed replica: nothing but a result of its own releases it.
      expect(explained.chain[0]!.targets[0]).toMatchObject({ policy: 'cache-aware', target: 'flaky-svc', details: { pending_tokens: 0 } });
    } finally {
      await failing.close();
    }
  });
});

describe('what a routing policy learns from a retried request (real processes)', () => {
  afterAll(stopAll);

  it("learns the answering target's own time to first token, not the wait for an earlier attempt elsewhere", async () => {
    const [hanging, fast] = await Promise.all([startSim({ models: ['m1'], ttftMs: 10_000 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    const router = await startRouter({
      routing: { policy: 'latency' },
      services: [{ name: 'hanging', url: hanging.url }, { name: 'fast', url: fast.url }],
      retry: { attempt_timeout_s: 0.6 },
      health_check: { interval_s: 0.5, failure_threshold: 1000 },
    });
    const body = { model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, stream: true };
    let retried = false;
    // The policy alternates between the two while it knows nothing of 'hanging': one of these waits for it first.
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(body) });
      expect(response.headers.get('x-switchyard-target')).toBe('fast');
      await response.text();
      retried ||= performance.now() - started > 600;
    }
    expect(retried).toBe(true);
    // With 'hanging' out of service, the explanation is the policy's record of 'fast'.
    await hanging.stop();
    type Explained = { target: string; candidates: unknown[]; details: { ttft_ewma_s: number } };
    const explained = await waitFor(async () => {
      const answer = (await (await fetch(`${router.url}/route/explain`, { method: 'POST', body: JSON.stringify(body) })).json()) as Explained;
      return answer.candidates.length === 1 ? answer : undefined;
    }, "'hanging' out of service");
    expect(explained.target).toBe('fast');
    // Timed from the client's arrival, the retried answer's 0.6 s would weigh at least 0.2 × 0.6 in the average.
    expect(explained.details.ttft_ewma_s).toBeLessThan(0.1);
  });
});

describe('per-model policies for model groups (real processes)', () => {
  let router: Proc;

  beforeAll(async () => {
    const sims = await Promise.all([0, 1, 2].map(() => startSim({ models: ['m'], ttftMs: 0 })));
    router = await startRouter({
      routing: { policy: 'cache-aware', models: { grp: 'round-robin', 'no-such-model': 'least-load' } },
      model_groups: { grp: { targets: [{ model: 'm' }] } },
      services: sims.map((s, i) => ({ name: `g${i}`, url: s.url })),
    });
  });
  afterAll(stopAll);

  const targetsFor = async (model: string) => {
    const targets = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, max_tokens: 2, messages: [{ role: 'system', content: SYSTEM('shared') }, { role: 'user', content: `question ${i}?` }] }),
      });
      expect(response.status).toBe(200);
      targets.add(response.headers.get('x-switchyard-target')!);
    }
    return targets;
  };

  it("routes a group's requests by the group's own policy, and its target's direct requests by theirs", async () => {
    expect((await targetsFor('grp')).size).toBe(3);
    expect((await targetsFor('m')).size).toBe(1);
    const explain = async (model: string) => (await fetch(`${router.url}/route/explain`, { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) })).json();
    expect(((await explain('grp')) as { chain: Array<{ targets: Array<{ policy: string }> }> }).chain[0]!.targets[0]!.policy).toBe('round-robin');
    expect(((await explain('m')) as { policy: string }).policy).toBe('cache-aware');
  });

  it('warns at start-up of a routing.models key that names nothing routable', () => {
    const warnings = router.lines.filter((line) => line.includes('routing.models names no'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('no-such-model');
    expect(warnings[0]).not.toContain('grp');
  });
});
