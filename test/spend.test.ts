import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredRequest } from '../src/store/request-log.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { freePort } from './support/redis.js';

const CLI = join(import.meta.dirname, '../dist/cli.js');
const ADMIN = { authorization: 'Bearer admin-secret' };
const PRICE = { input_per_million: 1_000_000, output_per_million: 1_000_000 };

describe('spend: priced by the model that served, and charged when the usage is unknown', () => {
  const db = join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
  const keys: Record<string, string> = {};
  let router: Proc;

  const cli = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { env: { ...process.env, SQLITE_DB_PATH: db }, encoding: 'utf8' });
  const spentUsd = (name: string) => Number((JSON.parse(cli('keys', 'list')) as Array<{ name: string; spent_usd: number }>).find((k) => k.name === name)!.spent_usd);
  const send = (key: string, requestId: string, body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[key]}`, 'x-request-id': requestId },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], max_tokens: 8, ...body }),
      signal,
    });
  const logged = (requestId: string) =>
    waitFor(async () => {
      const { data } = (await (await fetch(`${router.url}/admin/requests`, { headers: ADMIN })).json()) as { data: StoredRequest[] };
      return data.find((row) => row.requestId === requestId);
    }, `the request log row of ${requestId}`);

  beforeAll(async () => {
    for (const name of ['grouped', 'streamer', 'dropper']) keys[name] = String((JSON.parse(cli('keys', 'create', name)) as { key: string }).key);
    const [sim, slow] = await Promise.all([startSim({ models: ['m1'], ttftMs: 1 }), startSim({ models: ['slow'], ttftMs: 1, tokensPerS: 20 })]);
    router = await startRouter(
      {
        services: [
          { name: 'sim', url: sim.url },
          { name: 'slow-sim', url: slow.url },
          // Nothing listens there: requests for 'unreachable' fall back to m1.
          { name: 'down', url: `http://127.0.0.1:${await freePort()}`, models: ['unreachable'] },
        ],
        // Absurd prices, so that a cost is plainly non-zero.
        prices: { m1: PRICE, slow: PRICE },
        model_groups: { smart: { targets: [{ model: 'm1', weight: 1 }] }, unreachable: { fallbacks: ['m1'] } },
        health_check: { failure_threshold: 1000 },
        retry: { max_attempts: 1 },
        request_log: { flush_interval_ms: 50 },
      },
      { SQLITE_DB_PATH: db, ADMIN_TOKEN: 'admin-secret' },
    );
  });
  afterAll(stopAll);

  it("prices a request through a group or a fallback at the price of the model that served it, in the key's spend and the log", async () => {
    expect((await send('grouped', 'via-group', { model: 'smart' })).status).toBe(200);
    const fallback = await send('grouped', 'via-fallback', { model: 'unreachable' });
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get('x-switchyard-target')).toBe('sim');
    const rows = [await logged('via-group'), await logged('via-fallback')];
    for (const row of rows) expect(row.cost).toBeCloseTo(row.promptTokens! + row.completionTokens!);
    expect(spentUsd('grouped')).toBeCloseTo(rows[0]!.cost! + rows[1]!.cost!);
  });

  it('charges a stream without include_usage an estimate: the prompt from its size, a token per relayed chunk', async () => {
    const answer = await send('streamer', 'no-usage', { model: 'm1', stream: true });
    expect(answer.status).toBe(200);
    const chunks = (await answer.text()).split('\n\n').filter((event) => event.startsWith('data: '));
    const row = await logged('no-usage');
    expect(row.promptTokens).toBeNull();
    expect(row.cost).toBeGreaterThan(chunks.length);
    expect(spentUsd('streamer')).toBeCloseTo(row.cost!);
  });

  it('charges a client that drops a stream for the prompt and what was relayed, not nothing', async () => {
    const abort = new AbortController();
    const answer = await send('dropper', 'dropped', { model: 'slow', stream: true, max_tokens: 200 }, abort.signal);
    const reader = answer.body!.getReader();
    await reader.read();
    abort.abort();
    const row = await logged('dropped');
    expect(row.status).toBe(499);
    expect(row.cost).toBeGreaterThan(0);
    expect(spentUsd('dropper')).toBeCloseTo(row.cost!);
  });
});
