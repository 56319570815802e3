import { describe, expect, it } from 'vitest';
import { RedisBatch } from '../src/state/redis-batch.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisBatch', () => {
  it('sends the operations of one loop turn as one call and hands each caller its own reply', async () => {
    const calls: Array<{ keys: string[]; args: Array<string | number> }> = [];
    const batch = new RedisBatch(60_000, async (keys, args) => {
      calls.push({ keys, args });
      return [[0, 0, 'entry'], [1, 500], 0];
    });
    const replies = Promise.all([
      batch.admit([{ counter: 'rpm:a', limit: 5, cost: 1 }], 'cache:x'),
      batch.admit([{ counter: 'rpm:b', limit: 1, cost: 1 }, { counter: 'tpm:b', limit: 9, cost: 3 }], undefined),
      batch.settle({ counters: ['tpm:b'], delta: -2 }, { key: 'cache:y', value: { status: 200, contentType: 'application/json', chunks: ['{}'], target: 't' }, ttlS: 2 }),
    ]);
    expect(calls).toHaveLength(0);
    expect(await replies).toEqual([[0, 0, 'entry'], [1, 500], 0]);
    expect(calls).toEqual([
      {
        keys: ['rpm:a', 'cache:x', 'rpm:b', 'tpm:b', 'tpm:b', 'cache:y'],
        args: [60_000, 'A', 1, 1, 5, 1, 'A', 2, 0, 1, 1, 9, 3, 'S', -2, 1, 1, '{"status":200,"contentType":"application/json","chunks":["{}"],"target":"t"}', 2000],
      },
    ]);
    await batch.admit([], 'cache:z').catch(() => {});
    expect(calls).toHaveLength(2);
  });

  it('fails every operation of a batch that fails, and starts the next turn afresh', async () => {
    let fail = true;
    const batch = new RedisBatch(1000, async (keys) => {
      if (fail) throw new Error('connection lost');
      return keys.map(() => 0);
    });
    const outcomes = await Promise.allSettled([batch.admit([], 'k1'), batch.settle({ counters: ['c'], delta: 1 }, undefined)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await turn();
    expect(await batch.admit([], 'k2')).toBe(0);
  });
});
