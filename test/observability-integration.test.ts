import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { RequestLog, type StoredRequest } from '../src/store/request-log.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { entry } from './support/request-log-entry.js';

const CLI = join(import.meta.dirname, '../dist/cli.js');
const runCli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('metrics, request log and debugging commands after known traffic', () => {
  let router: Proc;
  let client: OpenAI;
  const dbPath = join(mkdtempSync(join(tmpdir(), 'switchyard-obs-')), 'models.db');
  const chat = (model: string, requestId: string) =>
    fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }),
    });

  beforeAll(async () => {
    const [simA, simB, broken] = await Promise.all([
      startSim({ models: ['m1', 'flaky'], ttftMs: 5 }),
      startSim({ models: ['m1'], ttftMs: 5 }),
      startSim({ models: ['flaky'], failStatus: 503 }),
    ]);
    router = await startRouter(
      {
        services: [{ name: 'a', url: simA.url }, { name: 'b', url: simB.url }, { name: 'broken', url: broken.url }],
        request_log: { flush_interval_ms: 100 },
        max_body_bytes: 4096,
      },
      { SQLITE_DB_PATH: dbPath },
    );
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('counts requests, tokens, latencies, retries and the router overhead, and logs each request', async () => {
    const completionTokens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await chat('m1', `known-${i}`);
      expect(response.status).toBe(200);
      const overhead = Number(response.headers.get('x-switchyard-overhead-ms'));
      expect(overhead).toBeGreaterThanOrEqual(0);
      completionTokens.push(((await response.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens);
    }
    const raw = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true }),
    });
    expect(Number(raw.headers.get('x-switchyard-overhead-ms'))).toBeGreaterThanOrEqual(0);
    await raw.text(); // no usage asked for: its tokens are unknown to the router
    const stream = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) if (chunk.usage) completionTokens.push(chunk.usage.completion_tokens);
    expect((await chat('no-such-model', 'unknown-1')).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await chat('flaky', `flaky-${i}`)).status).toBe(200);

    const rows = await waitFor(async () => {
      const body = (await (await fetch(`${router.url}/admin/requests?since=0`)).json()) as { data: StoredRequest[] };
      return body.data.length === 8 ? body.data : undefined;
    }, 'all 8 requests in the request log');
    const text = await (await fetch(`${router.url}/metrics`)).text();

    expect(metricValue(text, 'switchyard_requests_total', { route: 'chat', model: 'm1', status: '200' })).toBe(5);
    expect(metricValue(text, 'switchyard_requests_total', { model: 'unknown', target: 'none', status: '404' })).toBe(1);
    expect(metricValue(text, 'switchyard_requests_total', { model: 'flaky', target: 'a', status: '200' })).toBe(2);
    expect(metricValue(text, 'switchyard_request_duration_seconds_count', { model: 'm1' })).toBe(5);
    expect(metricValue(text, 'switchyard_time_to_first_token_seconds_count', { model: 'm1' })).toBe(2);
    expect(metricValue(text, 'switchyard_inter_token_latency_seconds_count', { model: 'm1' })).toBe(2);
    expect(metricValue(text, 'switchyard_router_overhead_seconds_count')).toBe(8);
    expect(metricValue(text, 'switchyard_tokens_total', { model: 'm1', type: 'completion' })).toBe(completionTokens.reduce((a, b) => a + b));
    const retries = rows.filter((r) => r.model === 'flaky').reduce((sum, r) => sum + r.retries, 0);
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'switchyard_upstream_retries_total', { model: 'flaky' })).toBe(retries);
    expect(metricValue(text, 'switchyard_inflight_requests')).toBe(0);
    expect(metricValue(text, 'switchyard_target_healthy', { target: 'a' })).toBe(1);
    expect(metricValue(text, 'switchyard_target_last_probe_timestamp_seconds', { target: 'a' })).toBeGreaterThan(Date.now() / 1000 - 60);
    for (const counter of ['switchyard_fallbacks_total', 'switchyard_rate_limited_total', 'switchyard_cache_requests_total']) expect(text).toContain(`# TYPE ${counter} counter`);
    expect(metricValue(text, 'switchyard_target_benched', { target: 'a' })).toBe(0);
    // No Redis configured: no Redis series (a switchyard_redis_up 0 would page someone for an outage of nothing).
    expect(text).not.toMatch(/^switchyard_(redis_up|request_log_local_rows_total)\b/m);

    // Retried attempts are not more requests: the requests answered to clients are the sum of switchyard_requests_total.
    const fleet = (await (await fetch(`${router.url}/admin/fleet`)).json()) as { activity: { requests: number }; services: Array<{ name: string; request_count: number; last_minute: { errors: number; error_rate: number } }> };
    expect(fleet.activity.requests).toBe(metricValue(text, 'switchyard_requests_total'));
    expect(fleet.services.reduce((sum, s) => sum + s.request_count, 0)).toBe(7 + retries);
    expect(fleet.services.find((s) => s.name === 'broken')!.last_minute).toMatchObject({ errors: retries, error_rate: 1 });

    const known = rows.find((r) => r.requestId === 'known-0')!;
    expect(known).toMatchObject({ route: 'chat', model: 'm1', status: 200, ttftMs: null, promptTokens: expect.any(Number), completionTokens: completionTokens[0], cost: null, callerKey: null });
    expect(['a', 'b']).toContain(known.target);
    expect(known.decision).toMatch(/^least-outstanding: [ab] of 2 healthy, attempt 1$/);
    // A retry chooses among the replicas not tried yet, and says so.
    for (const flaky of rows.filter((r) => r.model === 'flaky')) expect(flaky.decision).toBe(flaky.retries === 0 ? 'least-outstanding: a of 2 healthy, attempt 1' : 'least-outstanding: a of 1 untried healthy, attempt 2');
    const streamed = rows.find((r) => r.route === 'chat' && r.ttftMs !== null)!;
    // Events that arrive in one network read were delivered together: a gap of 0 is a measurement, null is not.
    expect(streamed.interTokenMs).not.toBeNull();
    expect(streamed.interTokenMs).toBeGreaterThanOrEqual(0);
    expect(streamed.latencyMs).toBeGreaterThanOrEqual(streamed.ttftMs!);
    // The log keeps the name asked for; only the metric label is bounded to "unknown".
    expect(rows.find((r) => r.requestId === 'unknown-1')).toMatchObject({ model: 'no-such-model', target: null, status: 404 });
  });

  it('rejects a bad request-log filter with a 400 in the OpenAI error shape', async () => {
    const response = await fetch(`${router.url}/admin/requests?status=teapot`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe('status');
    // Numbers Date.parse would take for dates
    for (const [query, param] of [['limit=2.5', 'limit'], ['limit=-1', 'limit'], ['since=-5', 'since'], ['after_id=x', 'after_id']]) {
      const refused = await fetch(`${router.url}/admin/requests?${query}`);
      expect(refused.status, query).toBe(400);
      expect(((await refused.json()) as { error: { param: string } }).error.param).toBe(param);
    }
    expect((await fetch(`${router.url}/admin/requests?since=${new Date(0).toISOString()}`)).status).toBe(200);
  });

  it('analyzes and shows the fleet from the running router and from its database file', async () => {
    const fromUrl = runCli(['logs', 'analyze', '--url', router.url, '--last', '1h', '--model', 'm1']);
    expect(fromUrl.status).toBe(0);
    expect(fromUrl.stdout).toMatch(/^TOTAL\s+5\s+0\s+0\.0%/m);
    const fromFile = runCli(['logs', 'analyze', '--last', '1h'], { SQLITE_DB_PATH: dbPath });
    expect(fromFile.status).toBe(0);
    expect(fromFile.stdout).toMatch(/^no-such-model\s+-\s+1\s+1\s+100\.0%/m);
    const status = runCli(['status', '--url', router.url]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('3/3 targets healthy');
    expect(status.stdout).toMatch(/^broken\s+service\s+healthy\s+flaky/m);
    expect(status.stdout).not.toContain('\x1b[');
  });

  it('counts and logs the requests it refuses before routing them (invalid JSON, missing fields, oversized body)', async () => {
    const post = (requestId: string, body: string) =>
      fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body });
    expect((await post('refused-json', '{"model": "m1",')).status).toBe(400);
    expect((await post('refused-fields', JSON.stringify({ model: 'm1' }))).status).toBe(400);
    expect((await post('refused-size', JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }))).status).toBe(413);

    const rows = await waitFor(async () => {
      const body = (await (await fetch(`${router.url}/admin/requests?since=0`)).json()) as { data: StoredRequest[] };
      const refused = body.data.filter((r) => r.requestId.startsWith('refused-'));
      return refused.length === 3 ? refused : undefined;
    }, 'the three refused requests in the request log');
    expect(rows.find((r) => r.requestId === 'refused-json')).toMatchObject({ route: 'chat', model: 'unknown', target: null, status: 400 });
    expect(rows.find((r) => r.requestId === 'refused-fields')).toMatchObject({ route: 'chat', model: 'm1', target: null, status: 400 });
    expect(rows.find((r) => r.requestId === 'refused-size')).toMatchObject({ route: 'chat', model: 'unknown', target: null, status: 413 });
    const text = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(text, 'switchyard_requests_total', { route: 'chat', model: 'unknown', target: 'none', status: '400' })).toBe(1);
    expect(metricValue(text, 'switchyard_requests_total', { route: 'chat', model: 'm1', target: 'none', status: '400' })).toBe(1);
    expect(metricValue(text, 'switchyard_requests_total', { route: 'chat', model: 'unknown', target: 'none', status: '413' })).toBe(1);
  });
});

// An idle process sleeps in epoll_wait until a timer is due: each wake-up is one voluntary context switch of its main thread.
describe.runIf(existsSync('/proc/self/status'))('an idle router', () => {
  afterAll(stopAll);

  it('is not woken 100 times a second to sample its event-loop lag (prom-client samples every 10 ms; the router once a second)', async () => {
    const router = await startRouter({ services: [] });
    const wakeUps = () => Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${router.child.pid}/status`, 'utf8'))![1]);
    const before = wakeUps();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // A wake-up or two a second are left (the lag sample, the router's own timers); sampling every 10 ms made it 300 and more.
    expect(wakeUps() - before).toBeLessThan(100);
  });
});

describe("a target's numbers in /stats", () => {
  afterAll(stopAll);

  it('counts an answer about the request (a prompt over the context window) as an answer, not as an error of the target', async () => {
    const small = await startSim({ models: ['m1'], extra: ['--kv-blocks', '4'] });
    const router = await startRouter({ services: [{ name: 'small', url: small.url }] });
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'word '.repeat(2000) }], max_tokens: 3 }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; request_count: number; error_count: number; last_minute: { errors: number } }> };
    expect(stats.services[0]).toMatchObject({ request_count: 1, error_count: 0, last_minute: { errors: 0 } });
  });

  it('starts at the attempt it answered, not at an earlier attempt that timed out elsewhere', async () => {
    const [hanging, fast] = await Promise.all([startSim({ models: ['m1'], ttftMs: 5000 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    const router = await startRouter({
      services: [{ name: 'hanging', url: hanging.url }, { name: 'fast', url: fast.url }],
      retry: { attempt_timeout_s: 0.3 },
    });
    const latenciesS: number[] = [];
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const response = await fetch(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, stream: true }),
      });
      expect(response.headers.get('x-switchyard-target')).toBe('fast');
      await response.text();
      latenciesS.push((performance.now() - started) / 1000);
    }
    // One of the two waited for the hanging target first (the policy alternates between idle targets).
    expect(Math.max(...latenciesS)).toBeGreaterThan(0.3);
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; p99_s: number; ttft_p99_s: number; response_time: number }> };
    const own = stats.services.find((s) => s.name === 'fast')!;
    expect(own.p99_s).toBeLessThan(0.25);
    expect(own.ttft_p99_s).toBeLessThan(0.25);
    expect(own.response_time).toBeLessThan(0.25);
  });
});

describe('switchyard logs analyze on a known log', () => {
  it('prints counts, error rates, percentiles, tokens and cost per model and target as a table', () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'switchyard-seed-')), 'models.db');
    const db = openDatabase(dbPath);
    const log = new RequestLog(db, { flushIntervalMs: 60_000, batchRows: 1000, retentionDays: 7, maxRows: 1000 });
    const recent = Date.now() - 60_000;
    for (const latencyMs of [10, 20, 30, 40]) log.append(entry({ ts: recent, latencyMs, ttftMs: latencyMs / 2, cost: 0.5 }));
    log.append(entry({ ts: recent, model: 'm2', target: 'b', status: 502, latencyMs: 7, ttftMs: null, promptTokens: null, completionTokens: null }));
    log.append(entry({ ts: Date.now() - 2 * 3_600_000, model: 'old' }));
    log.close();
    db.close();

    const result = runCli(['logs', 'analyze', '--last', '1h', '--db', dbPath]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const cells = (line: string) => line.trim().split(/\s{2,}/);
    expect(cells(lines[2]!)).toEqual(['model', 'target', 'requests', 'errors', 'error rate', 'p50', 'p90', 'p99', 'TTFT p50', 'prompt tok', 'completion tok', 'cost']);
    expect(cells(lines[4]!)).toEqual(['m1', 'a', '4', '0', '0.0%', '20 ms', '40 ms', '40 ms', '10 ms', '40', '20', '2.0000']);
    expect(cells(lines[5]!)).toEqual(['m2', 'b', '1', '1', '100.0%', '7.0 ms', '7.0 ms', '7.0 ms', '–', '0', '0', '–']);
    expect(cells(lines[6]!)).toEqual(['TOTAL', '5', '1', '20.0%', '20 ms', '40 ms', '40 ms', '10 ms', '40', '20', '2.0000']);
    expect(result.stdout).not.toContain('old');
    // Numeric columns are right-aligned under right-aligned headers, exactly as the README shows this very log.
    const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
    expect(readme).toContain(lines.slice(2, 7).join('\n'));

    const everything = runCli(['logs', 'analyze', '--last', '99999999999d', '--db', dbPath]);
    expect(everything.stderr).toBe('');
    expect(everything.stdout).toContain('(since 1970-01-01T00:00:00.000Z)');
    expect(everything.stdout).toContain('old');

    // Refused before the command runs, as every argument is (README, CLI): exit 1.
    const bad = runCli(['logs', 'analyze', '--last', 'yesterday', '--db', dbPath]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('invalid duration "yesterday"');
    const badStatus = runCli(['logs', 'tail', '--status', '99x', '--db', dbPath]);
    expect(badStatus.status).toBe(1);
    expect(badStatus.stderr).toContain('invalid status filter "99x"');
  });
});

describe('switchyard logs tail', () => {
  it('prints the recent matching requests, then follows new ones live', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'switchyard-tail-')), 'models.db');
    const db = openDatabase(dbPath);
    const log = new RequestLog(db, { flushIntervalMs: 60_000, batchRows: 1000, retentionDays: 7, maxRows: 1000 });
    log.append(entry({ ts: Date.now(), requestId: 'old-ok' }));
    log.append(entry({ ts: Date.now(), requestId: 'old-failed', status: 502 }));
    log.append(entry({ ts: Date.now(), requestId: 'other-model', model: 'm2', status: 503 }));
    log.flush();
    const tail = spawn(process.execPath, [CLI, 'logs', 'tail', '--db', dbPath, '--model', 'm1', '--status', '5xx'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    createInterface({ input: tail.stdout! }).on('line', (line) => lines.push(line));
    try {
      await waitFor(() => lines.length === 1 || undefined, 'the recent matching row');
      expect(lines[0]).toMatch(/ 502 m1 → a 100 ms ttft=20 ms tokens=10\+5 id=old-failed$/);
      log.append(entry({ ts: Date.now(), requestId: 'new-ok' }));
      log.append(entry({ ts: Date.now(), requestId: 'new-failed', status: 500 }));
      log.flush();
      await waitFor(() => lines.length === 2 || undefined, 'the new matching row');
      expect(lines[1]).toContain('id=new-failed');
    } finally {
      tail.kill();
      log.close();
      db.close();
    }
  });
});

describe('logs analyze --url over more requests than one answer holds', () => {
  afterAll(stopAll);

  it('says that it analysed only the newest rows of the period', async () => {
    const dbPath = join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
    const db = openDatabase(dbPath);
    const log = new RequestLog(db, { flushIntervalMs: 60_000, batchRows: 1_000_000, retentionDays: 7, maxRows: 1_000_000 });
    const now = Date.now();
    log.write(Array.from({ length: 10_050 }, (_, i) => entry({ ts: now - 1000, requestId: `bulk-${i}` })));
    log.close();
    db.close();
    const router = await startRouter({ services: [] }, { SQLITE_DB_PATH: dbPath });
    const fromUrl = runCli(['logs', 'analyze', '--url', router.url, '--last', '1h']);
    expect(fromUrl.status).toBe(0);
    expect(fromUrl.stdout).toContain('only the newest 10000 requests of the period');
    const fromFile = runCli(['logs', 'analyze', '--last', '1h'], { SQLITE_DB_PATH: dbPath });
    expect(fromFile.stdout).toMatch(/^TOTAL\s+10050\s/m);
    expect(fromFile.stdout).not.toContain('only the newest');
  });
});
