import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/sim/clock.js';
import { Engine, PromptTooLongError, type EngineOptions, type SequenceInput } from '../src/sim/engine.js';
import { engineMetricsText } from '../src/sim/metrics.js';
import { PrefixCache } from '../src/sim/prefix-cache.js';
import { simChoices } from '../src/sim/choices.js';

/** A clock that only moves when the test says so. */
class ManualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fire: () => void }> = [];
  now = () => this.time;
  setTimer(ms: number, fire: () => void): void {
    this.timers.push({ at: this.time + ms, fire });
  }
  /** Fires due timers in order until nothing is due by `now + ms`. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.time = next.at;
      next.fire();
    }
    this.time = until;
  }
}

const OPTIONS: EngineOptions = { ttftMs: 0, tokensPerS: 1e9, maxBatch: 2, blockSize: 4, kvBlocks: 64, alphaMs: 5, betaPrefillMs: 0.5, betaDecodeMs: 1, betaKvMs: 0 };
const words = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function track(engine: Engine, clock: ManualClock, input: SequenceInput) {
  const record = { tokens: [] as number[], doneAt: -1, firstAt: -1 };
  const sequence = engine.submit(input, {
    token: (i) => {
      if (i === 0) record.firstAt = clock.now();
      record.tokens.push(i);
    },
    done: () => (record.doneAt = clock.now()),
  });
  return Object.assign(record, { sequence });
}

describe('simulated engine timing model', () => {
  it('prefills in one step costing α + βp·uncached tokens, then decodes at α + βd per sequence', () => {
    const clock = new ManualClock();
    const engine = new Engine(OPTIONS, clock);
    const r = track(engine, clock, { prompt: words('a', 20), outputTokens: 3, continuation: [] });
    clock.advance(1000);
    expect(r.firstAt).toBe(5 + 0.5 * 20);
    expect(r.doneAt).toBe(15 + 2 * (5 + 1));
    expect(r.tokens).toEqual([0, 1, 2]);
  });

  it('skips the prefill of a cached prefix and reports the cached tokens', () => {
    const clock = new ManualClock();
    const engine = new Engine(OPTIONS, clock);
    const shared = words('s', 16);
    track(engine, clock, { prompt: [...shared, 'x'], outputTokens: 1, continuation: [] });
    clock.advance(1000);
    const start = clock.now();
    const second = track(engine, clock, { prompt: [...shared, 'y'], outputTokens: 1, continuation: [] });
    clock.advance(1000);
    expect(second.sequence.cachedTokens).toBe(16);
    expect(second.firstAt - start).toBe(5 + 0.5 * 1);
    expect(engine.counters).toMatchObject({ prefixQueries: 34, prefixHits: 16 });
  });

  it('runs at most max-batch sequences and queues the rest in FIFO order', () => {
    const clock = new ManualClock();
    const engine = new Engine(OPTIONS, clock);
    const runs = ['a', 'b', 'c'].map((p) => track(engine, clock, { prompt: words(p, 4), outputTokens: 4, continuation: [] }));
    // The first step started with only the first arrival; the next step admits one more.
    expect(engine.numRunning).toBe(1);
    clock.advance(5 + 0.5 * 4);
    expect(engine.numRunning).toBe(2);
    expect(engine.numWaiting).toBe(1);
    const metrics = engineMetricsText(engine, 'm');
    expect(metrics).toContain('vllm:num_requests_running{model_name="m"} 2');
    expect(metrics).toContain('vllm:num_requests_waiting{model_name="m"} 1');
    clock.advance(1000);
    expect(runs[2]!.firstAt).toBeGreaterThanOrEqual(Math.max(runs[0]!.doneAt, runs[1]!.doneAt));
    expect(engine.numRunning + engine.numWaiting).toBe(0);
  });

  it('queues a request while the KV cache has no room, and rejects one that can never fit', () => {
    const clock = new ManualClock();
    const engine = new Engine({ ...OPTIONS, maxBatch: 8, kvBlocks: 6 }, clock);
    track(engine, clock, { prompt: words('a', 16), outputTokens: 4, continuation: [] });
    track(engine, clock, { prompt: words('b', 8), outputTokens: 1, continuation: [] });
    expect(engine.numRunning).toBe(1);
    expect(engine.numWaiting).toBe(1);
    expect(engine.kvUsage).toBeCloseTo(5 / 6);
    expect(engineMetricsText(engine, 'm')).toMatch(/vllm:kv_cache_usage_perc\{model_name="m"\} 0\.83/);
    clock.advance(1000);
    expect(engine.numWaiting).toBe(0);
    expect(() => engine.submit({ prompt: words('c', 30), outputTokens: 1, continuation: [] }, { token() {}, done() {} })).toThrow(PromptTooLongError);
  });

  it('caches generated blocks so the next turn of a conversation hits them', () => {
    const clock = new ManualClock();
    const engine = new Engine(OPTIONS, clock);
    const turn1 = words('t', 8);
    const reply = words('r', 8);
    track(engine, clock, { prompt: turn1, outputTokens: 8, continuation: reply });
    clock.advance(1000);
    const turn2 = track(engine, clock, { prompt: [...turn1, ...reply, 'next'], outputTokens: 1, continuation: [] });
    clock.advance(1000);
    expect(turn2.sequence.cachedTokens).toBe(16);
  });

  it('a cancelled sequence frees its batch slot and blocks', () => {
    const clock = new ManualClock();
    const engine = new Engine(OPTIONS, clock);
    const r = track(engine, clock, { prompt: words('a', 8), outputTokens: 10, continuation: [] });
    engine.cancel(r.sequence);
    expect(engine.numRunning).toBe(0);
    expect(engine.cache.usedBlocks).toBe(0);
    clock.advance(1000);
    expect(r.tokens).toEqual([]);
  });
});

describe('prefix KV cache', () => {
  it('evicts least recently used unreferenced blocks and never referenced ones', () => {
    const cache = new PrefixCache(2, 4);
    const a = cache.blockHashes(words('a', 4));
    const b = cache.blockHashes(words('b', 4));
    const c = cache.blockHashes(words('c', 4));
    expect(cache.allocate(a, 0)).toEqual({ matched: 0 });
    expect(cache.allocate(b, 0)).toEqual({ matched: 0 });
    expect(cache.allocate(c, 0)).toBeUndefined();
    cache.release(a, 0);
    cache.release(b, 0);
    expect(cache.allocate(a, 0)).toEqual({ matched: 2 });
    cache.release(a, 0);
    // b is now the least recently used: c takes its room, a survives.
    expect(cache.allocate(c, 0)).toEqual({ matched: 0 });
    expect(cache.matchedBlocks(b)).toBe(0);
    expect(cache.matchedBlocks(a)).toBe(2);
    expect(cache.cachedBlocks).toBeLessThanOrEqual(4);
  });

  it('chains block hashes: a block matches only after the same prefix', () => {
    const cache = new PrefixCache(2, 8);
    const first = cache.blockHashes(['x', 'y', 'p', 'q']);
    const other = cache.blockHashes(['z', 'z', 'p', 'q']);
    expect(first[1]).not.toBe(other[1]);
  });
});

describe('simulated answers to structured outputs', () => {
  it('bounds the instance of a schema whose references branch, which grew exponentially with its depth', () => {
    const properties = Object.fromEntries(Array.from({ length: 30 }, (_, at) => [`p${at}`, { $ref: '#/$defs/node' }]));
    const schema = { $ref: '#/$defs/node', $defs: { node: { type: 'object', properties } } };
    const body = { messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'tree', schema } } };
    const [choice] = simChoices('chat', body, 'hi', 'm1', undefined);
    const json = choice!.pieces.join('');
    expect(json.length).toBeLessThan(100_000);
    expect(JSON.parse(json)).toMatchObject({ p0: { p0: expect.any(Object) } });
  });
});
