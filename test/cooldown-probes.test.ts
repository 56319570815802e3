import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatAnswer, errorReply, startFakeProvider, type FakeProvider, type FakeReply } from './support/fake-provider.js';
import { startRouter, stopAll, waitFor, type Proc } from './support/processes.js';

const ask = { model: 'm9', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 };

describe('a benched target whose probe ends without reaching a verdict the usual way', () => {
  let router: Proc;
  let flaky: FakeProvider;
  let answer: () => FakeReply | Promise<FakeReply>;

  const post = async (signal?: AbortSignal) => {
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask), signal });
    await response.text();
    return response.status;
  };
  const cooldown = async () => {
    const { services } = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
    return services.find((s) => s.name === 'flaky')!.cooldown.state;
  };
  const benchUntilProbing = async () => {
    answer = () => errorReply(503, { message: 'overloaded' });
    while ((await cooldown()) === 'ok') await post();
    await waitFor(async () => (await cooldown()) === 'probing', 'the cooling period to end');
  };

  beforeAll(async () => {
    flaky = await startFakeProvider(() => answer());
    router = await startRouter(
      {
        services: [{ name: 'flaky', url: flaky.url, models: ['m9'] }],
        // Long enough that a probe claim lapsing (the safety net) cannot be what frees the target in these tests.
        cooldown: { failure_threshold: 2, window_s: 60, cooldown_s: 2 },
        health_check: { failure_threshold: 1000 },
        retry: { max_attempts: 1 },
      },
      { SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db') },
    );
  });
  afterAll(async () => {
    await stopAll();
    await flaky.close();
  });

  it('lets the next request probe when the probing client went away', async () => {
    await benchUntilProbing();
    answer = async () => {
      await sleep(1000);
      return chatAnswer('m9');
    };
    await expect(post(AbortSignal.timeout(200))).rejects.toThrow();
    answer = () => chatAnswer('m9');
    await sleep(100);
    expect(await post()).toBe(200);
    expect(await cooldown()).toBe('ok');
  });

  it('returns the target to service when the probe is answered with a context-window error', async () => {
    await benchUntilProbing();
    answer = () => errorReply(400, { message: "This model's maximum context length is 4096 tokens", code: 'context_length_exceeded' });
    expect(await post()).toBe(400);
    await waitFor(async () => (await cooldown()) === 'ok', 'the target back in service', 1000);
    answer = () => chatAnswer('m9');
    expect(await post()).toBe(200);
  });

  it("logs a probe's routing decision as a probe, which no routing policy chose", async () => {
    await benchUntilProbing();
    answer = () => chatAnswer('m9');
    const probe = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'the-probe' }, body: JSON.stringify(ask) });
    expect(probe.status).toBe(200);
    const row = await waitFor(async () => {
      const { data } = (await (await fetch(`${router.url}/admin/requests?since=0`)).json()) as { data: Array<{ requestId: string; decision: string | null }> };
      return data.find((r) => r.requestId === 'the-probe');
    }, 'the probe in the request log');
    expect(row.decision).toBe('cooldown probe: flaky, attempt 1');
  });
});

describe('a 500 that may be the request\'s doing (real processes)', () => {
  afterAll(stopAll);

  const cooldowns = async (router: Proc) => {
    const { services } = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string; cooldown: { state: string } }> };
    return Object.fromEntries(services.map((s) => [s.name, s.cooldown.state]));
  };
  const post = async (router: Proc) => {
    const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(ask) });
    await response.text();
    return response.status;
  };
  const config = (a: FakeProvider, b: FakeProvider) => ({
    services: [{ name: 'a', url: a.url, models: ['m9'] }, { name: 'b', url: b.url, models: ['m9'] }],
    cooldown: { failure_threshold: 2, window_s: 60, cooldown_s: 60 },
    health_check: { failure_threshold: 1000 },
    retry: { max_attempts: 2, backoff_base_ms: 1 },
  });

  it('benches no target when every target fails the same request: one poison request must not take the fleet out', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => startFakeProvider(() => errorReply(500, { message: 'cannot handle this input' }))));
    try {
      const router = await startRouter(config(a!, b!));
      for (let i = 0; i < 4; i++) expect(await post(router)).toBe(500);
      expect(a!.requests + b!.requests).toBe(8);
      expect(await cooldowns(router)).toEqual({ a: 'ok', b: 'ok' });
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('benches a target whose 500s another target answered instead', async () => {
    const [broken, working] = await Promise.all([startFakeProvider(() => errorReply(500, { message: 'broken' })), startFakeProvider(() => chatAnswer('m9'))]);
    try {
      const router = await startRouter(config(broken, working));
      for (let i = 0; i < 4; i++) expect(await post(router)).toBe(200);
      expect(broken.requests).toBeGreaterThanOrEqual(2);
      expect(await cooldowns(router)).toEqual({ a: 'benched', b: 'ok' });
    } finally {
      await Promise.all([broken.close(), working.close()]);
    }
  });
});
