import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatTarget } from './support/chat.js';
import { NO_PROVIDER_ENV } from './support/cli.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { startRedis, type RedisProc } from './support/redis.js';

const TIMEOUT_S = 3;
const AGENT = { name: 'shared-agent', models: ['agent-model'] };

const post = async (router: Proc, path: string, body: unknown) => {
  const response = await fetch(`${router.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
};
const healthOf = async (router: Proc, name: string) => {
  const { services } = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string; healthy: boolean }> };
  return services.find((s) => s.name === name)?.healthy;
};
const chat = (router: Proc, model: string) => chatTarget(router.url, model);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('agent registrations shared through Redis by two router instances', () => {
  let redis: RedisProc;
  let sim: Proc;
  let a: Proc;
  let b: Proc;
  // Each instance has its own SQLite database: only Redis connects them.
  const startInstance = () =>
    startRouter({ services: [] }, { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-agents-redis-')), 'models.db'), REDIS_URL: redis.url, AGENT_HEARTBEAT_TIMEOUT_S: String(TIMEOUT_S) });

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSim({ models: AGENT.models, ttftMs: 1 });
    [a, b] = await Promise.all([startInstance(), startInstance()]);
  });
  afterAll(async () => {
    await stopAll();
    await redis.stop();
  });

  it('an agent registered on one instance is served through the other', async () => {
    expect((await chat(b, 'agent-model')).status).toBe(404);
    expect(await post(a, '/register', { ...AGENT, endpoint: sim.url })).toBe(200);
    await waitFor(async () => (await chat(b, 'agent-model')).status === 200, 'instance B to route the agent registered on A');
    expect(await chat(b, 'agent-model')).toEqual({ status: 200, target: AGENT.name });
  });

  it('an instance started later learns the registrations from Redis, and accepts their heartbeats', async () => {
    const late = await startInstance();
    await waitFor(async () => (await healthOf(late, AGENT.name)) !== undefined, 'the late instance to load the shared registrations');
    // Its start may outlast the timeout, so the agent may show expired until this heartbeat.
    expect(await post(late, '/heartbeat', { name: AGENT.name })).toBe(200);
    expect(await chat(late, 'agent-model')).toEqual({ status: 200, target: AGENT.name });
    await late.stop();
  });

  it('heartbeats sent to B keep the agent alive on A for two timeouts', async () => {
    const until = Date.now() + 2 * TIMEOUT_S * 1000;
    while (Date.now() < until) {
      expect(await post(b, '/heartbeat', { name: AGENT.name })).toBe(200);
      expect(await healthOf(a, AGENT.name)).toBe(true);
      await pause(200);
    }
  });

  it('expiry is seen on both instances, and a heartbeat on either revives the agent on both', async () => {
    await waitFor(async () => (await healthOf(a, AGENT.name)) === false && (await healthOf(b, AGENT.name)) === false, 'both instances to expire the silent agent', 10 * TIMEOUT_S * 1000);
    expect((await chat(a, 'agent-model')).status).toBe(503);
    expect(await post(a, '/heartbeat', { name: AGENT.name })).toBe(200);
    await waitFor(async () => (await healthOf(b, AGENT.name)) === true, 'B to see the heartbeat received by A');
    expect((await chat(b, 'agent-model')).status).toBe(200);
  });

  it('an agent retired on one instance is gone from both, and from Redis for instances started later', async () => {
    expect(await post(a, '/register', { name: 'retired-agent', models: AGENT.models, endpoint: sim.url })).toBe(200);
    await waitFor(async () => (await healthOf(b, 'retired-agent')) === true, 'B to learn the registration made on A');
    const retired = await fetch(`${b.url}/register/retired-agent`, { method: 'DELETE' });
    expect(retired.status).toBe(200);
    await waitFor(async () => (await healthOf(a, 'retired-agent')) === undefined, 'A to forget the agent retired on B');
    expect(await post(a, '/heartbeat', { name: 'retired-agent' })).toBe(404);
    const late = await startInstance();
    await waitFor(async () => (await healthOf(late, AGENT.name)) !== undefined, 'the late instance to load the shared registrations');
    expect(await healthOf(late, 'retired-agent')).toBeUndefined();
    await late.stop();
  });

  it('an agent retired while Redis does not answer is retired on every instance once it does', async () => {
    expect(await post(a, '/register', { name: 'paused-agent', models: AGENT.models, endpoint: sim.url })).toBe(200);
    await waitFor(async () => (await healthOf(b, 'paused-agent')) === true, 'B to learn the registration made on A');
    redis.pause();
    try {
      // A command that times out sets B's shared state resting; the retirement then is not sent at all.
      expect(await post(b, '/heartbeat', { name: AGENT.name })).toBe(200);
      expect((await fetch(`${b.url}/register/paused-agent`, { method: 'DELETE' })).status).toBe(200);
    } finally {
      redis.resume();
    }
    await pause(300);
    expect(await healthOf(a, 'paused-agent')).toBe(true);
    // B's next call to Redis after its rest hands the retirement over.
    await pause(1200);
    expect(await post(b, '/heartbeat', { name: AGENT.name })).toBe(200);
    await waitFor(async () => (await healthOf(a, 'paused-agent')) === undefined, 'A to forget the agent retired on B while Redis hung');
  });

  it('with Redis down, each instance keeps serving the agents it knows', async () => {
    await redis.stop();
    for (const router of [a, b]) {
      expect(await post(router, '/heartbeat', { name: AGENT.name })).toBe(200);
      expect(await chat(router, 'agent-model')).toEqual({ status: 200, target: AGENT.name });
    }
  });
});

describe('agents.max_agents bounds the agents of every instance sharing Redis', () => {
  const MAX = 2;
  const FORGET_AFTER_S = 5;
  let redis: RedisProc;
  let sim: Proc;
  let a: Proc;
  let b: Proc;
  const register = (router: Proc, name: string) => post(router, '/register', { name, models: AGENT.models, endpoint: sim.url });
  const agentNames = async (router: Proc) =>
    ((await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string }> }).services.map((s) => s.name).sort();

  beforeAll(async () => {
    redis = await startRedis();
    sim = await startSim({ models: AGENT.models, ttftMs: 1 });
    const config = { services: [], agents: { max_agents: MAX, heartbeat_timeout_s: 1, forget_after_s: FORGET_AFTER_S } };
    [a, b] = await Promise.all([startRouter(config, { ...NO_PROVIDER_ENV, REDIS_URL: redis.url }), startRouter(config, { ...NO_PROVIDER_ENV, REDIS_URL: redis.url })]);
  });
  afterAll(async () => {
    await stopAll();
    await redis.stop();
  });

  it('admits exactly max_agents new names across both instances, however their registrations interleave', async () => {
    const names = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    const statuses = await Promise.all(names.map((name, i) => register(i % 2 ? b : a, name)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(MAX);
    expect(statuses.filter((s) => s === 403)).toHaveLength(names.length - MAX);
    const admitted = names.filter((_, i) => statuses[i] === 200).sort();
    await waitFor(async () => (await agentNames(a)).join() === admitted.join() && (await agentNames(b)).join() === admitted.join(), 'both instances to list the same admitted agents');
    // A registered name may register again through either instance; a new one is refused by both.
    expect(await register(b, admitted[0]!)).toBe(200);
    expect(await register(a, 'late')).toBe(403);
    expect(await register(b, 'late')).toBe(403);
    // A retirement through one instance frees a place for a registration through the other.
    expect((await fetch(`${b.url}/register/${admitted[0]}`, { method: 'DELETE' })).status).toBe(200);
    expect(await register(a, 'late')).toBe(200);
    expect(await register(b, 'later')).toBe(403);
  });

  it('forgotten agents free their places too', async () => {
    await waitFor(async () => (await agentNames(a)).length === 0 && (await agentNames(b)).length === 0, 'both instances to forget the silent agents', 3 * FORGET_AFTER_S * 1000);
    expect(await register(a, 'after-1')).toBe(200);
    expect(await register(b, 'after-2')).toBe(200);
    expect(await register(a, 'after-3')).toBe(403);
  });
});
