import { describe, expect, it } from 'vitest';
import { RedisBatch } from '../src/state/redis-batch.js';

const LIMITS = { maxEntries: 100, maxBytes: 4096 };
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisBatch', () => {
  it('sends the operations of one loop turn as one call and hands each caller its own reply', async () => {
    const calls: Array<{ keys: string[]; args: Array<string | number> }> = [];
    const batch = new RedisBatch(60_000, LIMITS, async (keys, args) => {
      calls.push({ keys, args });
      return [[0, 0, 'entry'], [1, 500], 0, 0];
    });
    const value = { status: 200, contentType: 'application/json', chunks: ['{}'], target: 't' };
    const replies = Promise.all([
      batch.admit([{ counter: 'rpm:a', limit: 5, cost: 1 }], 'cache:x'),
      batch.admit([{ counter: 'rpm:b', limit: 1, cost: 1 }, { counter: 'tpm:b', limit: 9, cost: 3 }], undefined),
      batch.settle({ counters: ['tpm:b', 'tpm:m'], deltas: [-2, -2] }, { key: 'cache:y', value, ttlS: 2, bytes: 2 }),
      batch.settle({ counters: ['tpm:b'], deltas: [5] }, undefined),
    ]);
    expect(calls).toHaveLength(0);
    expect(await replies).toEqual([[0, 0, 'entry'], [1, 500], 0, undefined]);
    // Admits and stores in order; the corrections summed per counter, last.
    expect(calls).toEqual([
      {
        keys: ['rpm:a', 'cache:x', 'rpm:b', 'tpm:b', 'cache:y', 'cache-index', 'cache-sizes', 'cache-bytes', 'tpm:b', 'tpm:m'],
        args: [60_000, 'A', 1, 1, 0, 5, 1, 'A', 2, 0, 0, 1, 1, 9, 3, 'W', JSON.stringify(value), 2000, 100, 4096, 'C', 2, 3, -2],
      },
    ]);
    await batch.admit([], 'cache:z').catch(() => {});
    expect(calls).toHaveLength(2);
  });

  it('keeps one call in flight: what arrives meanwhile leaves together once it is answered', async () => {
    const calls: string[][] = [];
    let answer: (() => void) | undefined;
    const batch = new RedisBatch(1000, LIMITS, (keys) => {
      calls.push(keys);
      return new Promise((resolve) => (answer = () => resolve(keys.map(() => 0))));
    });
    const first = batch.admit([], 'k1');
    await turn();
    expect(calls).toEqual([['k1']]);
    const later = [batch.admit([], 'k2'), batch.admit([], 'k3')];
    await turn();
    await turn();
    expect(calls).toHaveLength(1);
    answer!();
    await first;
    await turn();
    expect(calls).toEqual([['k1'], ['k2', 'k3']]);
    answer!();
    expect(await Promise.all(later)).toEqual([0, 0]);
  });

  it('fails every operation of a batch that fails, and starts the next turn afresh', async () => {
    let fail = true;
    const batch = new RedisBatch(1000, LIMITS, async (keys) => {
      if (fail) throw new Error('connection lost');
      return keys.map(() => 0);
    });
    const outcomes = await Promise.allSettled([batch.admit([], 'k1'), batch.settle({ counters: ['c'], deltas: [1] }, undefined)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await turn();
    expect(await batch.admit([], 'k2')).toBe(0);
  });

  it('fails what queued behind a failed call with it, rather than sending it into a second timeout', async () => {
    const calls: string[][] = [];
    let fail: ((error: Error) => void) | undefined;
    const batch = new RedisBatch(1000, LIMITS, (keys) => {
      calls.push(keys);
      return new Promise((_resolve, reject) => (fail = reject));
    });
    const first = batch.admit([], 'k1');
    await turn();
    const behind = Promise.allSettled([batch.admit([], 'k2'), batch.settle({ counters: ['c'], deltas: [-3] }, undefined)]);
    fail!(new Error('Command timed out'));
    await expect(first).rejects.toThrow('Command timed out');
    await turn();
    expect(calls).toEqual([['k1']]);
    expect((await behind).map((o) => o.status)).toEqual(['rejected', 'rejected']);
    // The failed correction was applied locally by its caller: it does not ride along later.
    void batch.admit([], 'k3');
    await turn();
    expect(calls).toEqual([['k1'], ['k3']]);
  });
});
