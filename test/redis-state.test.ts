import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisState } from '../src/state/redis-state.js';
import { waitFor } from './support/processes.js';
import { startRedis, type RedisProc } from './support/redis.js';

describe('Redis shared state (two instances, one real Redis)', () => {
  let redis: RedisProc;
  let a: RedisState;
  let b: RedisState;
  const cooldown = { failureThreshold: 2, windowS: 60, cooldownS: 0.2 };

  beforeAll(async () => {
    redis = await startRedis();
    // A timed-out command rests an instance (it then answers alone), so the timeout leaves room for a loaded CI machine.
    const make = () => new RedisState({ url: redis.url, keyPrefix: 'unit:', commandTimeoutMs: 2000, cooldown }, pino({ level: 'silent' }));
    [a, b] = [make(), make()];
    expect(await a.whenReady(5000)).toBe(true);
    expect(await b.whenReady(5000)).toBe(true);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await redis.stop();
  });

  it('charges limits atomically across instances and corrects reservations', async () => {
    const charge = [{ counter: 'tpm:k', limit: 100, cost: 30 }];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).admit(charge, undefined)));
    expect(results.filter((r) => r.admission.admitted)).toHaveLength(3);
    // 90 reserved; the three answers used 10 tokens each: 60 freed.
    await a.settle({ counters: ['tpm:k'], deltas: [-60] }, undefined);
    const after = await Promise.all(Array.from({ length: 3 }, () => b.admit(charge, undefined)));
    expect(after.filter((r) => r.admission.admitted)).toHaveLength(2);
  });

  it('stores through one instance and finds it through the other in the same admit', async () => {
    const value = { status: 200, contentType: 'application/json', chunks: ['{"a":', '1}'], target: 't' };
    await a.settle(undefined, { key: 'entry', value, ttlS: 60, bytes: 7 });
    expect((await b.admit([], 'entry')).cached).toEqual(value);
    expect((await b.admit([], 'absent')).cached).toBeUndefined();
  });

  it('bounds the shared cache by max_entries and max_bytes (of stored entries) for all instances, the oldest evicted first', async () => {
    const limits = { maxEntries: 3, maxBytes: 400 };
    const [x, y] = [0, 1].map(() => new RedisState({ url: redis.url, keyPrefix: 'bounded:', commandTimeoutMs: 500, cooldown, cacheLimits: limits }, pino({ level: 'silent' })));
    try {
      expect(await x!.whenReady(5000)).toBe(true);
      expect(await y!.whenReady(5000)).toBe(true);
      const store = (instance: RedisState, key: string, text: string) =>
        instance.settle(undefined, { key, value: { status: 200, contentType: 'application/json', chunks: [text], target: 't' }, ttlS: 60, bytes: Buffer.byteLength(text) });
      const stored = async (...keys: string[]) => Promise.all(keys.map(async (key) => (await x!.admit([], key)).cached !== undefined));
      // Stored as about 80 bytes each: four exceed the count, not the bytes.
      for (const [i, key] of ['e1', 'e2', 'e3', 'e4'].entries()) await store(i % 2 ? y! : x!, key, '{}');
      expect(await stored('e1', 'e2', 'e3', 'e4')).toEqual([false, true, true, true]);
      // About 280 bytes: the oldest go until it fits.
      await store(y!, 'large', `"${'x'.repeat(200)}"`);
      expect(await stored('e2', 'e3', 'e4', 'large')).toEqual([false, false, true, true]);
      // Larger than the whole bound: not stored, and nothing evicted for it.
      await store(x!, 'huge', `"${'x'.repeat(400)}"`);
      expect(await stored('huge', 'e4', 'large')).toEqual([false, true, true]);
    } finally {
      await Promise.all([x!.close(), y!.close()]);
    }
  });

  it('keeps no trace of expired cache entries in its index', async () => {
    const state = new RedisState({ url: redis.url, keyPrefix: 'expiring:', commandTimeoutMs: 500, cooldown, cacheLimits: { maxEntries: 10, maxBytes: 10_000 } }, pino({ level: 'silent' }));
    const inspect = new Redis(redis.url, { keyPrefix: 'expiring:' });
    try {
      expect(await state.whenReady(5000)).toBe(true);
      const value = { status: 200, contentType: 'application/json', chunks: ['{}'], target: 't' };
      await state.settle(undefined, { key: 'brief', value, ttlS: 0.05, bytes: 2 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await state.settle(undefined, { key: 'kept', value, ttlS: 60, bytes: 2 });
      expect(await inspect.zrange('cache-index', '0', '-1')).toEqual(['expiring:cache:kept']);
      expect(await inspect.hkeys('cache-sizes')).toEqual(['expiring:cache:kept']);
      expect(Number(await inspect.get('cache-bytes'))).toBe(JSON.stringify(value).length);
    } finally {
      inspect.disconnect();
      await state.close();
    }
  });

  it('runs the admits and settles of one loop turn in order, each as if alone', async () => {
    const value = { status: 200, contentType: 'application/json', chunks: ['{}'], target: 't' };
    const limit = [{ counter: 'rpm:turn', limit: 2, cost: 1 }, { counter: 'tpm:turn', limit: 100, cost: 10 }];
    // One turn: three admits against a limit of two (the third refused, charging neither counter),
    // a store, then a read of what was just stored.
    const [first, second, third, , read] = await Promise.all([
      a.admit(limit, undefined),
      a.admit(limit, undefined),
      a.admit(limit, undefined),
      a.settle({ counters: ['tpm:turn'], deltas: [-10] }, { key: 'turn-entry', value, ttlS: 60, bytes: 2 }),
      a.admit([], 'turn-entry'),
    ]);
    expect([first.admission.admitted, second.admission.admitted, third.admission.admitted]).toEqual([true, true, false]);
    expect(third.admission).toMatchObject({ counter: 'rpm:turn' });
    expect(read.cached).toEqual(value);
    // 20 reserved, 10 given back: 90 tokens left, so a 90-token charge fits and a 91-token one does not.
    expect((await b.admit([{ counter: 'tpm:turn', limit: 100, cost: 91 }], undefined)).admission.admitted).toBe(false);
    expect((await b.admit([{ counter: 'tpm:turn', limit: 100, cost: 90 }], undefined)).admission.admitted).toBe(true);
  });

  it('keeps one spend per key for every instance and refuses a key over its budget on any of them', async () => {
    const budget = { keyId: 'k-budget', budgetUsd: 0.01 };
    // The first spend starts from what the instance knew (its own record), then every instance adds to it.
    await a.addSpend('k-budget', 0.004, 0.002);
    expect((await b.admit([], undefined, budget)).admission.admitted).toBe(true);
    await b.addSpend('k-budget', 0.004, 0);
    const refused = await a.admit([{ counter: 'rpm:k-budget', limit: 100, cost: 1 }], undefined, budget);
    expect(refused.admission).toEqual({ admitted: false, overBudget: true });
    // Refused for its budget, nothing was charged.
    const charged = await a.admit([{ counter: 'rpm:k-budget', limit: 1, cost: 1 }], undefined);
    expect(charged.admission.admitted).toBe(true);
  });

  it('benches everywhere, lets exactly one instance probe, and recovers everywhere', async () => {
    await a.cooldowns.recordFailure('target');
    await b.cooldowns.recordFailure('target');
    await waitFor(() => a.cooldowns.view('target').state === 'benched' && b.cooldowns.view('target').state === 'benched', 'both to bench');
    await waitFor(() => a.cooldowns.view('target').state === 'probing', 'cooldown to end');
    const claims = await Promise.all([a.cooldowns.claimProbe('target'), b.cooldowns.claimProbe('target'), a.cooldowns.claimProbe('target'), b.cooldowns.claimProbe('target')]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await a.cooldowns.recordProbeSuccess('target');
    await waitFor(() => b.cooldowns.view('target').state === 'ok', 'the other instance to see the recovery');
  });

  it("drops a departed target's shared cooldown record, so that no instance reloads its bench", async () => {
    await a.cooldowns.recordFailure('departed');
    await a.cooldowns.recordFailure('departed');
    await waitFor(() => b.cooldowns.view('departed').state === 'benched', 'the bench to be shared');
    // Every instance forgets a departed agent (retirement, expiry, the shared announcement).
    a.cooldowns.forget('departed');
    b.cooldowns.forget('departed');
    // An instance that starts (or reconnects) afterwards loads the shared benches, then the revocations: seeing this one, it has loaded both.
    await a.revocations.revoke('loaded-marker');
    const late = new RedisState({ url: redis.url, keyPrefix: 'unit:', commandTimeoutMs: 500, cooldown }, pino({ level: 'silent' }));
    try {
      expect(await late.whenReady(5000)).toBe(true);
      await waitFor(() => late.revocations.isRevoked('loaded-marker'), 'the resync');
      expect(late.cooldowns.view('departed').state).toBe('ok');
    } finally {
      await late.close();
    }
  });

  it('announces revocations', async () => {
    await a.revocations.revoke('hash-1');
    await waitFor(() => b.revocations.isRevoked('hash-1'), 'the revocation to arrive');
  });
  it('tells the other instance which replica holds a response, its model and its owner key, for an hour, until it is forgotten', async () => {
    // Polled: the SET is not waited for, and reaches Redis through another connection than b's lookup.
    const holder = (id: string) => waitFor(() => b.responseHolders.find(id), `${id} shared`);
    a.responseHolders.remember('resp_shared', { replica: 'r1', model: 'm1', owner: 'key-1' });
    expect(await holder('resp_shared')).toEqual({ replica: 'r1', model: 'm1', owner: 'key-1' });
    a.responseHolders.remember('resp_open', { replica: 'r1', model: 'm1', owner: undefined });
    expect(await holder('resp_open')).toEqual({ replica: 'r1', model: 'm1', owner: undefined });
    expect(await b.responseHolders.find('resp_unknown')).toBeUndefined();
    const admin = new Redis(redis.url);
    try {
      expect(await admin.ttl('unit:response:resp_shared')).toBeGreaterThan(3500);
      // As an earlier version shared it: the replica alone.
      await admin.set('unit:response:resp_legacy', '[r2');
      expect(await holder('resp_legacy')).toEqual({ replica: '[r2', model: undefined });
      b.responseHolders.forget('resp_shared');
      await waitFor(async () => (await a.responseHolders.find('resp_shared')) === undefined, 'the holder forgotten');
    } finally {
      admin.disconnect();
    }
  });

  it('serves locally at once while a hung Redis rests after a timed-out command, then shares again', async () => {
    const charge = [{ counter: 'rpm:hung', limit: 10, cost: 1 }];
    redis.pause();
    try {
      // Waits one command timeout, then falls back to this instance's own counters and rests.
      expect((await a.admit(charge, undefined)).admission.admitted).toBe(true);
      expect(a.up).toBe(false);
      // Resting: served locally without sending anything to Redis.
      expect((await a.admit(charge, undefined)).admission.admitted).toBe(true);
    } finally {
      redis.resume();
    }
    // Redis now runs the one command that timed out (count 1); had the second been sent, the count would be 2 and this refused.
    expect((await b.admit([{ counter: 'rpm:hung', limit: 2, cost: 1 }], undefined)).admission.admitted).toBe(true);
    await waitFor(() => a.up || undefined, 'the rest to end');
    expect((await a.admit([{ counter: 'rpm:after', limit: 1, cost: 1 }], undefined)).admission.admitted).toBe(true);
    expect((await b.admit([{ counter: 'rpm:after', limit: 1, cost: 1 }], undefined)).admission.admitted).toBe(false);
  });
});
