import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fleet } from '../src/fleet/fleet.js';
import { LatencyWindow } from '../src/fleet/latency-window.js';
import { Metrics } from '../src/observability/metrics.js';
import { PolicyMetrics } from '../src/observability/policy-metrics.js';
import { createMemoryState } from '../src/state/memory-state.js';
import { DailyFile } from '../src/observability/daily-file.js';
import { FleetHistory } from '../src/observability/fleet-history.js';
import { createLogger } from '../src/observability/logger.js';
import { analyzeRequests } from '../src/observability/request-analysis.js';
import { OPENAI_COMPATIBLE_TARGET } from '../src/providers/by-name.js';
import { openDatabase } from '../src/store/database.js';
import { queryRequests, RequestLog } from '../src/store/request-log.js';
import { entry } from './support/request-log-entry.js';

const DAY = 86_400_000;
const JAN_1 = Date.parse('2026-01-01T10:00:00Z');

describe('daily log file', () => {
  it('rotates at the first line of a new UTC day and keeps only the configured number of past days', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-logs-'));
    let now = JAN_1;
    const file = new DailyFile({ dir, name: 'router.log', keepDays: 2, now: () => now });
    file.write('day one\n');
    now += DAY;
    file.write('day two\n');
    expect(readFileSync(join(dir, 'router.2026-01-01.log'), 'utf8')).toBe('day one\n');
    expect(readFileSync(join(dir, 'router.log'), 'utf8')).toBe('day two\n');
    now += DAY;
    file.write('day three\n');
    now += DAY;
    file.write('day four\n');
    file.close();
    expect(readdirSync(dir).sort()).toEqual(['router.2026-01-02.log', 'router.2026-01-03.log', 'router.log']);
    expect(readFileSync(join(dir, 'router.log'), 'utf8')).toBe('day four\n');
  });

  it('writes JSON lines through the logger, with credentials and prompt text redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-logs-'));
    const stdout: string[] = [];
    const log = createLogger({ level: 'info', file: { dir, keepDays: 3 }, stdout: { write: (line) => void stdout.push(line) } });
    log.info(
      { requestId: 'req-42', req: { headers: { authorization: 'Bearer sk-secret' } }, apiKey: 'sk-secret', body: { messages: [{ role: 'user', content: 'my secret prompt' }] } },
      'about a request',
    );
    log.debug('below the level');
    const written = readFileSync(join(dir, 'router.log'), 'utf8');
    expect(stdout.join('')).toBe(written);
    const line = JSON.parse(written.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, requestId: 'req-42', msg: 'about a request', apiKey: '[redacted]', body: { messages: '[redacted]' } });
    expect(written).not.toContain('sk-secret');
    expect(written).not.toContain('my secret prompt');
  });

  it('logs prompt text only when explicitly enabled, and never keys', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', logPrompts: true, stdout: { write: (line) => void lines.push(line) } });
    log.info({ api_key: 'sk-secret', body: { prompt: 'visible prompt' } }, 'debugging');
    expect(lines.join('')).toContain('visible prompt');
    expect(lines.join('')).not.toContain('sk-secret');
  });
});

describe('request log', () => {
  it('buffers rows and writes them in one batch on flush, readable with filters', () => {
    const db = openDatabase(':memory:');
    const log = new RequestLog(db, { flushIntervalMs: 60_000, batchRows: 1000, retentionDays: 7, maxRows: 100, now: () => JAN_1 });
    log.append(entry({ requestId: 'a' }));
    log.append(entry({ requestId: 'b', model: 'm2', status: 502, target: null, ttftMs: null }));
    log.append(entry({ requestId: 'c', status: 429 }));
    expect(queryRequests(db, {})).toHaveLength(0);
    log.flush();
    expect(queryRequests(db, {}).map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    expect(queryRequests(db, { model: 'm2' })[0]).toMatchObject({ ...entry({ requestId: 'b', model: 'm2', status: 502, target: null, ttftMs: null }), id: 2 });
    expect(queryRequests(db, { status: '4xx' }).map((r) => r.requestId)).toEqual(['c']);
    expect(queryRequests(db, { afterId: 1, limit: 1 }).map((r) => r.requestId)).toEqual(['c']);
    expect(() => queryRequests(db, { status: 'bad' })).toThrow(RangeError);
    log.close();
  });

  it('keeps rows within the retention age and row cap', () => {
    const db = openDatabase(':memory:');
    let now = JAN_1;
    const log = new RequestLog(db, { flushIntervalMs: 60_000, batchRows: 1000, retentionDays: 2, maxRows: 3, now: () => now });
    for (let day = 0; day < 3; day++) log.append(entry({ ts: JAN_1 + day * DAY, requestId: `day${day}` }));
    log.flush();
    now = JAN_1 + 3 * DAY + 1;
    log.prune();
    expect(queryRequests(db, {}).map((r) => r.requestId)).toEqual(['day2']);
    for (let i = 0; i < 5; i++) log.append(entry({ ts: now, requestId: `new${i}` }));
    log.flush();
    log.prune();
    expect(queryRequests(db, {}).map((r) => r.requestId)).toEqual(['new2', 'new3', 'new4']);
    log.close();
  });
});

describe('request analysis', () => {
  it('summarizes counts, error rates, percentiles, tokens and cost per model and target', () => {
    const rows = [
      ...[10, 20, 30, 40].map((latencyMs) => entry({ latencyMs, cost: 0.01 })),
      entry({ model: 'm2', target: 'b', status: 503, latencyMs: 5, ttftMs: null, promptTokens: null, completionTokens: null }),
    ];
    const { groups, total } = analyzeRequests(rows);
    expect(groups).toEqual([
      expect.objectContaining({ model: 'm1', target: 'a', requests: 4, errors: 0, latencyP50Ms: 20, latencyP99Ms: 40, promptTokens: 40, completionTokens: 20, cost: expect.closeTo(0.04, 6) }),
      expect.objectContaining({ model: 'm2', target: 'b', requests: 1, errors: 1, errorRate: 1, ttftP50Ms: null, cost: null }),
    ]);
    expect(total).toMatchObject({ requests: 5, errors: 1, errorRate: 0.2 });
  });
});

describe('the latency window behind /stats', () => {
  it('gives nearest-rank percentiles, the same as logs analyze', () => {
    const window = new LatencyWindow();
    for (let value = 10; value >= 1; value--) window.record(value);
    expect(window.percentile(50)).toBe(5);
    expect(window.percentile(99)).toBe(10);
    const two = new LatencyWindow();
    two.record(1);
    two.record(2);
    expect(two.percentile(50)).toBe(1);
    expect(new LatencyWindow().percentile(50)).toBeNull();
  });

  it("gives the percentile of the samples recorded since a mark, across the ring's wrap", () => {
    const window = new LatencyWindow(4);
    for (let value = 1; value <= 6; value++) window.record(value);
    expect(window.percentileSince(0, 50)).toBe(4); // the ring keeps 3..6
    expect(window.percentileSince(window.recorded - 2, 50)).toBe(5);
    expect(window.percentileSince(window.recorded, 50)).toBeNull();
  });
});

describe('fleet history behind the dashboard and switchyard status', () => {
  const SAMPLE_MS = 2000;
  function sampled() {
    const fleet = new Fleet(100);
    const clock = { now: JAN_1 };
    const history = new FleetHistory(fleet, { sampleMs: SAMPLE_MS, windowMs: 15 * 60_000, now: () => clock.now });
    const idle = (ms: number) => {
      for (let waited = 0; waited < ms; waited += SAMPLE_MS) {
        clock.now += SAMPLE_MS;
        history.sample();
      }
    };
    return { fleet, history, idle, backend: fleet.add({ name: 'a', url: 'http://127.0.0.1:1', kind: 'service', adapter: OPENAI_COMPATIBLE_TARGET }) };
  }

  it('keeps failures in the last-minute error rate for a minute after traffic stops, then forgets them', () => {
    const { fleet, history, idle, backend } = sampled();
    history.sample();
    for (let i = 0; i < 3; i++) backend.recordSuccess(0.1, undefined);
    fleet.recordFailure(backend, 'connection refused');
    // Counted before the next sample: the live counters are part of the window.
    expect(history.lastMinute(backend)).toMatchObject({ requests: 4, errors: 1, error_rate: 0.25 });
    idle(40_000);
    expect(history.lastMinute(backend)).toMatchObject({ window_s: 40, requests: 4, errors: 1, requests_per_s: 0.1, error_rate: 0.25 });
    idle(30_000);
    expect(history.lastMinute(backend)).toMatchObject({ window_s: 60, requests: 0, errors: 0, requests_per_s: 0, error_rate: null });
  });

  it('starts a new series for a target that rejoins under the same name (an agent registering again)', () => {
    const { fleet, history, idle, backend } = sampled();
    history.sample();
    for (let i = 0; i < 5; i++) backend.recordSuccess(0.1, undefined);
    idle(SAMPLE_MS);
    fleet.remove('a');
    const rejoined = fleet.add({ name: 'a', url: 'http://127.0.0.1:2', kind: 'agent', adapter: OPENAI_COMPATIBLE_TARGET });
    rejoined.recordSuccess(0.1, undefined);
    expect(history.lastMinute(rejoined)).toBeNull();
    idle(SAMPLE_MS);
    expect(history.of('a').every((sample) => sample.requestsPerS >= 0)).toBe(true);
    rejoined.recordSuccess(0.1, undefined);
    expect(history.lastMinute(rejoined)).toMatchObject({ requests: 1, errors: 0 });
  });

  it("samples the median latency of each interval's answers, not of the last thousand", () => {
    const { history, idle, backend } = sampled();
    history.sample();
    for (let i = 0; i < 10; i++) backend.recordSuccess(1, undefined);
    idle(SAMPLE_MS);
    for (let i = 0; i < 3; i++) backend.recordSuccess(0.1, undefined);
    idle(SAMPLE_MS);
    idle(SAMPLE_MS);
    expect(history.of('a').map((sample) => sample.p50Ms)).toEqual([null, 1000, 100, null]);
  });
});

describe('prometheus metrics', () => {
  it('drops the series of a target that left the fleet, so agents coming and going under new names do not grow every scrape', async () => {
    const fleet = new Fleet(100);
    const metrics = new Metrics(fleet);
    const request = { endpoint: 'chat' as const, model: 'm', status: 200, latencyS: 0.1, ttftS: 0.01, interTokenS: 0.001, overheadS: 0.001, retries: 0, streamBroken: true };
    const usage = { prompt_tokens: 3, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 1 } };
    fleet.add({ name: 'stays', url: 'http://127.0.0.1:1', kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET });
    metrics.record({ ...request, target: 'stays', usage });
    // The series (name and labels) that name a target, without their values.
    const scrape = async () => (await metrics.registry.metrics()).split('\n').filter((line) => line.includes('target="')).map((line) => line.slice(0, line.lastIndexOf(' ')));
    const baseline = await scrape();
    for (let i = 0; i < 3; i++) {
      const name = `agent-${i}`;
      fleet.add({ name, url: 'http://127.0.0.1:2', kind: 'agent', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET });
      metrics.record({ ...request, target: name, usage });
      metrics.record({ ...request, target: name, status: 502, usage: undefined });
      expect((await scrape()).some((line) => line.includes(`target="${name}"`))).toBe(true);
      fleet.remove(name);
      // A request it was still answering ends after it left.
      metrics.record({ ...request, target: name, status: 499, usage });
    }
    expect(await scrape()).toEqual(baseline);
    expect(metrics.activity.requests).toBe(10);
  });

  it('drops the series of a model that only departed targets served, and a request it was still answering does not bring them back', async () => {
    const fleet = new Fleet(100);
    const metrics = new Metrics(fleet);
    const policyMetrics = new PolicyMetrics(metrics.registry, fleet, createMemoryState({ failureThreshold: 5, windowS: 60, cooldownS: 30 }), metrics.activity);
    metrics.keepModelsNamed((model) => model === 'group', policyMetrics);
    const request = { endpoint: 'chat' as const, status: 200, latencyS: 0.1, ttftS: undefined, interTokenS: undefined, overheadS: 0.001, usage: undefined, retries: 0, streamBroken: false };
    fleet.add({ name: 'stays', url: 'http://127.0.0.1:1', kind: 'service', models: ['kept'], adapter: OPENAI_COMPATIBLE_TARGET });
    // A name only a provider's prefix rule serves: no target lists it, the provider's series keep it.
    fleet.add({ name: 'provider:openai', url: 'http://127.0.0.1:3', kind: 'provider', models: [], adapter: OPENAI_COMPATIBLE_TARGET });
    metrics.record({ ...request, model: 'kept', target: 'stays', retries: 1 });
    metrics.record({ ...request, model: 'gpt-x', target: 'provider:openai', retries: 1 });
    const scrape = async () => (await metrics.registry.metrics()).split('\n').filter((line) => /^switchyard_(requests|upstream_retries|fallbacks|tokens|request_duration_seconds_count)/.test(line)).map((line) => line.slice(0, line.lastIndexOf(' ')));
    const baseline = await scrape();
    const groupRetries = () => metrics.registry.getSingleMetric('switchyard_upstream_retries_total')!.get().then((m) => m.values.find((v) => v.labels.model === 'group')?.value);
    for (let i = 0; i < 3; i++) {
      const [name, model] = [`agent-${i}`, `agent-model-${i}`];
      fleet.add({ name, url: 'http://127.0.0.1:2', kind: 'agent', models: [model, 'gpt-x'], adapter: OPENAI_COMPATIBLE_TARGET });
      metrics.record({ ...request, model, target: name, retries: 2 });
      metrics.record({ ...request, model: 'gpt-x', target: name, retries: 1 });
      metrics.record({ ...request, model: 'group', target: name, retries: 1 });
      metrics.record({ ...request, model, target: 'cache' });
      metrics.record({ ...request, model, target: 'none', status: 429 });
      policyMetrics.fallback('group', model, 'server_error');
      policyMetrics.fallback(model, 'kept', 'server_error');
      expect((await scrape()).some((line) => line.includes(`model="${model}"`) && line.startsWith('switchyard_upstream_retries_total'))).toBe(true);
      fleet.remove(name);
      await Promise.resolve();
      // A request it was still answering ends after it left, and after its model's series went.
      metrics.record({ ...request, model, target: name, retries: 1 });
    }
    const left = await scrape();
    expect(left.filter((line) => !line.includes('model="group"'))).toEqual(baseline);
    // A model group keeps its series: the configuration names it.
    expect(await groupRetries()).toBe(3);
    expect(metrics.activity.retries).toBe(2 + 3 * 5);
  });

  it("reports the event-loop lag statistics once each, as NaN before the first sample rather than prom-client's 9223372036.85 and 0", async () => {
    const metrics = new Metrics(new Fleet(100));
    const lagLines = (await metrics.registry.metrics()).split('\n').filter((line) => /^switchyard_process_nodejs_eventloop_lag_\w+_seconds /.test(line));
    expect(lagLines.map((line) => line.split(' ')[0]).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p90', 'p99', 'stddev'].map((s) => `switchyard_process_nodejs_eventloop_lag_${s}_seconds`));
    expect(lagLines.every((line) => line.endsWith(' Nan'))).toBe(true);
  });

  it('counts the requests that failed for their client: 5xx answers and broken streams, not refusals of the request or clients that left', () => {
    const metrics = new Metrics(new Fleet(100));
    const request = { endpoint: 'chat' as const, model: 'm', target: 'none', latencyS: 0.1, ttftS: undefined, interTokenS: undefined, overheadS: 0.001, retries: 0, usage: undefined, streamBroken: false };
    for (const status of [200, 400, 404, 429, 499, 502, 503, 504]) metrics.record({ ...request, status });
    metrics.record({ ...request, status: 200, streamBroken: true });
    expect(metrics.activity).toMatchObject({ requests: 9, failed: 4 });
  });
});
