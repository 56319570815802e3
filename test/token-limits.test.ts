import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../src/gateway/caller.js';
import type { InferenceRequest } from '../src/gateway/inference-request.js';
import { RateLimitStage } from '../src/gateway/rate-limit.js';
import { createMemoryState } from '../src/state/memory-state.js';
import { RedisState } from '../src/state/redis-state.js';
import type { SharedState } from '../src/state/shared-state.js';
import { startRedis, type RedisProc } from './support/redis.js';

const cooldown = { failureThreshold: 5, windowS: 60, cooldownS: 30 };
const caller: Caller = { id: 'key:k', key: { id: 'k', name: 'k', keyHash: 'h', prefix: 'p', spentUsd: 0, createdAt: '', revokedAt: null, tpm: 200 } };
const stage = new RateLimitStage({ defaultRpm: undefined, models: { m: { tpm: 1000 } }, defaultCompletionTokens: 10 });

function request(maxTokens: number): InferenceRequest {
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens };
  return { id: 'r', endpoint: 'chat', model: 'm', stream: false, body, raw: Buffer.from(JSON.stringify(body)), headers: {}, startedAt: 0 } as unknown as InferenceRequest;
}

/** Sends requests one after another, each using `used` tokens, until one is refused; returns how many were admitted. */
async function admittedUntilRefused(state: SharedState, maxTokens: number, used: number): Promise<number> {
  for (let admitted = 0; admitted < 50; admitted++) {
    const { charges, reservation } = stage.plan(caller, request(maxTokens));
    const { admission } = await state.admit(charges, undefined);
    if (!admission.admitted) return admitted;
    await state.settle(stage.correction(reservation, used), undefined);
  }
  return 50;
}

let redis: RedisProc;
let redisState: RedisState;
let prefixes = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redisState?.close();
  await redis.stop();
});

const modes: Array<[string, () => Promise<SharedState>]> = [
  ['memory', async () => createMemoryState(cooldown)],
  [
    'redis',
    async () => {
      await redisState?.close();
      redisState = new RedisState({ url: redis.url, keyPrefix: `tpm${++prefixes}:`, commandTimeoutMs: 500, cooldown }, pino({ level: 'silent' }));
      expect(await redisState.whenReady(5000)).toBe(true);
      return redisState;
    },
  ],
];

describe.each(modes)('tokens per minute (%s state)', (_mode, makeState) => {
  it('holds with a max_tokens far above the limit: the correction takes back only what was charged', async () => {
    // Such a request reserves the whole limit, so it fits only an empty window: after the first
    // (which used 50 tokens) the window is not empty, and the next is refused.
    expect(await admittedUntilRefused(await makeState(), 1_000_000, 50)).toBe(1);
  });

  it('holds with an ordinary max_tokens', async () => {
    // 50 tokens a request against a 200-token limit: the fifth is refused.
    expect(await admittedUntilRefused(await makeState(), 20, 50)).toBe(4);
  });

  it('corrects each counter by what it was charged (the key and the model limit differ)', async () => {
    const state = await makeState();
    const { charges, reservation } = stage.plan(caller, request(1_000_000));
    expect(charges.map((c) => c.cost)).toEqual([200, 1000]);
    expect((await state.admit(charges, undefined)).admission.admitted).toBe(true);
    await state.settle(stage.correction(reservation, 100), undefined);
    // 100 used of the model's 1000: 900 left, so 900 fit and 901 do not.
    expect((await state.admit([{ counter: 'tpm:model:m', limit: 1000, cost: 901 }], undefined)).admission.admitted).toBe(false);
    expect((await state.admit([{ counter: 'tpm:model:m', limit: 1000, cost: 900 }], undefined)).admission.admitted).toBe(true);
  });
});
