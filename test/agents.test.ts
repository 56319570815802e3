import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV, runCli } from './support/cli.js';
import { assertConforms } from './support/conformance.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';

interface ServiceView {
  name: string;
  healthy: boolean;
  kind: string;
  models: string[];
}

const post = (router: Proc, path: string, body: unknown, token?: string) =>
  fetch(`${router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const retire = (router: Proc, name: string, token?: string) =>
  fetch(`${router.url}/register/${encodeURIComponent(name)}`, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
const health = async (router: Proc) => ((await (await fetch(`${router.url}/health`)).json()) as { status: string; healthy_services: string }).status;

const services = async (router: Proc, apiKey?: string) =>
  ((await (await fetch(`${router.url}/services`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} })).json()) as { services: ServiceView[] }).services;
const agentView = async (router: Proc, name: string, apiKey?: string) => (await services(router, apiKey)).find((s) => s.name === name);

const chat = (router: Proc, model: string) =>
  new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions
    .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
    .withResponse();

describe('agents', () => {
  let sim: Proc;
  const dbPath = join(mkdtempSync(join(tmpdir(), 'switchyard-agents-')), 'models.db');
  const env = { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: dbPath, AGENT_HEARTBEAT_TIMEOUT_S: '2' };

  beforeAll(async () => {
    sim = await startSim({ models: ['agent-model'] });
  });
  afterAll(stopAll);

  it('routes to a registered agent, marks it unhealthy after missed heartbeats, and revives it on a heartbeat', async () => {
    const router = await startRouter({ services: [] }, env);
    const registered = await post(router, '/register', { name: 'agent-1', endpoint: sim.url, models: ['agent-model'] });
    expect(registered.status).toBe(200);
    expect(await agentView(router, 'agent-1')).toMatchObject({ healthy: true, kind: 'agent', models: ['agent-model'] });
    const { response } = await chat(router, 'agent-model');
    expect(response.headers.get('x-switchyard-target')).toBe('agent-1');

    await waitFor(async () => (await agentView(router, 'agent-1'))?.healthy === false, 'the agent to expire');
    await expect(chat(router, 'agent-model')).rejects.toMatchObject({ status: 503 });

    expect((await post(router, '/heartbeat', { name: 'agent-1' })).status).toBe(200);
    expect(await agentView(router, 'agent-1')).toMatchObject({ healthy: true });
    expect((await chat(router, 'agent-model')).data.choices).toHaveLength(1);
    await router.stop();
  });

  it('restores registrations after a restart; a heartbeat makes a restored agent routable', async () => {
    const first = await startRouter({ services: [] }, env);
    expect((await post(first, '/register', { name: 'agent-2', endpoint: sim.url, models: ['agent-model'] })).status).toBe(200);
    await first.stop('SIGTERM');

    const second = await startRouter({ services: [] }, env);
    expect(await agentView(second, 'agent-2')).toMatchObject({ kind: 'agent', models: ['agent-model'] });
    expect((await post(second, '/heartbeat', { name: 'agent-2' })).status).toBe(200);
    expect(await agentView(second, 'agent-2')).toMatchObject({ healthy: true });
    expect((await chat(second, 'agent-model')).data.choices).toHaveLength(1);
    await second.stop();
  });

  it("does not count the router's own downtime as its agents' silence: a restored agent is forgotten only forget_after_s after the start", async () => {
    const forgetting = { ...env, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-agents-')), 'models.db'), AGENT_HEARTBEAT_TIMEOUT_S: '1', AGENT_FORGET_AFTER_S: '2' };
    const first = await startRouter({ services: [] }, forgetting);
    for (const name of ['beating', 'gone']) expect((await post(first, '/register', { name, endpoint: sim.url, models: ['agent-model'] })).status).toBe(200);
    await first.stop('SIGTERM');
    // Down for longer than forget_after_s.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const second = await startRouter({ services: [] }, forgetting);
    expect(await agentView(second, 'beating')).toMatchObject({ healthy: false });
    // Agents that only send heartbeats (the replaced router's) are taken back by their next one.
    expect((await post(second, '/heartbeat', { name: 'beating' })).status).toBe(200);
    expect(await agentView(second, 'beating')).toMatchObject({ healthy: true });
    expect((await chat(second, 'agent-model')).data.choices).toHaveLength(1);
    // One that stays silent is forgotten forget_after_s after the start.
    await waitFor(async () => (await agentView(second, 'gone')) === undefined, 'the silent restored agent to be forgotten');
    await second.stop();
  });

  it('forgets an agent silent for longer than agents.forget_after_s: not routed, listed, stored, nor counted by /health', async () => {
    const forgetting = { ...env, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-agents-')), 'models.db'), AGENT_HEARTBEAT_TIMEOUT_S: '1', AGENT_FORGET_AFTER_S: '3' };
    const config = { services: [{ name: 'engine', url: sim.url }] };
    const router = await startRouter(config, forgetting);
    expect((await post(router, '/register', { name: 'retiring', endpoint: sim.url, models: ['agent-only'] })).status).toBe(200);
    await waitFor(async () => (await health(router)) === 'degraded', 'the silent agent to expire');
    await waitFor(async () => (await agentView(router, 'retiring')) === undefined, 'the silent agent to be forgotten');
    expect(await health(router)).toBe('healthy');
    await expect(chat(router, 'agent-only')).rejects.toMatchObject({ status: 404 });
    // The replaced router's agents send only their name in a heartbeat: the answer tells them to register again.
    const forgotten = await post(router, '/heartbeat', { name: 'retiring' });
    expect(forgotten.status).toBe(404);
    expect(((await forgotten.json()) as { error: Record<string, unknown> }).error).toMatchObject({
      code: 'agent_not_registered',
      param: 'name',
      message: expect.stringMatching(/^No agent named 'retiring' is registered .*forgotten after agents\.forget_after_s.*: register it again with POST \/register$/),
    });
    // The router's log comes through a pipe of its own, which may trail its answers.
    await waitFor(() => router.lines.join('\n').includes('agent forgotten'), 'the forgetting logged');
    await router.stop('SIGTERM');
    const restarted = await startRouter(config, forgetting);
    expect(await agentView(restarted, 'retiring')).toBeUndefined();
    await restarted.stop();
  });

  it('retires an agent with DELETE /register/{name}: gone at once and after a restart; an unknown name is a 404', async () => {
    const fresh = { ...env, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-agents-')), 'models.db') };
    const first = await startRouter({ services: [] }, fresh);
    expect((await post(first, '/register', { name: 'team/box-1', endpoint: sim.url, models: ['agent-model'] })).status).toBe(200);
    expect((await chat(first, 'agent-model')).data.choices).toHaveLength(1);
    // A refusal is counted under the model's name (target "none") while some target serves it.
    expect((await post(first, '/v1/chat/completions', { model: 'agent-model', messages: 'hi' })).status).toBe(400);
    const modelSeries = async () => (await (await fetch(`${first.url}/metrics`)).text()).split('\n').filter((line) => line.includes('model="agent-model"'));
    expect(await modelSeries()).toContainEqual(expect.stringMatching(/^switchyard_requests_total\{.*target="none",status="400"\}/));
    const retired = await retire(first, 'team/box-1');
    expect(retired.status).toBe(200);
    expect(await retired.json()).toEqual({ status: 'unregistered', name: 'team/box-1' });
    expect(await agentView(first, 'team/box-1')).toBeUndefined();
    // Nothing serves or names the model any more: its series went with the agent, so churning agents do not grow every scrape.
    expect(await modelSeries()).toEqual([]);
    await expect(chat(first, 'agent-model')).rejects.toMatchObject({ status: 404 });
    const again = await retire(first, 'team/box-1');
    expect(again.status).toBe(404);
    const body = (await again.json()) as { error: { code: string } };
    assertConforms('ErrorResponse', body);
    expect(body.error.code).toBe('agent_not_found');
    await first.stop('SIGTERM');
    const second = await startRouter({ services: [] }, fresh);
    expect(await agentView(second, 'team/box-1')).toBeUndefined();
    await second.stop();
  });

  it('answers 508 for a request that comes back through an agent registered at the router itself, rather than calling itself without end', async () => {
    const router = await startRouter({ services: [], request_timeout_s: 20 }, NO_PROVIDER_ENV);
    expect((await post(router, '/register', { name: 'mirror', endpoint: router.url, models: ['mirrored'] })).status).toBe(200);
    const started = Date.now();
    const answer = await post(router, '/v1/chat/completions', { model: 'mirrored', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.status).toBe(508);
    const body = (await answer.json()) as { error: { code: string } };
    assertConforms('ErrorResponse', body);
    expect(body.error.code).toBe('loop_detected');
    expect(Date.now() - started).toBeLessThan(5000);
    await router.stop();
  });

  it('serves an agent whose name no header can carry, naming it percent-encoded in x-switchyard-target, also from the cache', async () => {
    const router = await startRouter({ services: [] }, NO_PROVIDER_ENV);
    expect((await post(router, '/register', { name: 'gpu-名', endpoint: sim.url, models: ['agent-model'] })).status).toBe(200);
    for (const cache of ['miss', 'hit']) {
      const answer = await post(router, '/v1/chat/completions', { model: 'agent-model', temperature: 0, messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-switchyard-cache')).toBe(cache);
      expect(answer.headers.get('x-switchyard-target')).toBe(encodeURIComponent('gpu-名'));
    }
    await router.stop();
  });

  it('refuses a registration past agents.max_agents or with more than 256 models, in the OpenAI error shape', async () => {
    const router = await startRouter({ services: [], agents: { max_agents: 2 } }, NO_PROVIDER_ENV);
    const register = (name: string, models = ['agent-model']) => post(router, '/register', { name, endpoint: sim.url, models });
    expect((await register('first')).status).toBe(200);
    expect((await register('second')).status).toBe(200);
    const third = await register('third');
    expect(third.status).toBe(403);
    const refusal = (await third.json()) as { error: { code: string } };
    assertConforms('ErrorResponse', refusal);
    expect(refusal.error.code).toBe('too_many_agents');
    // A registered agent may register again (a restart, new models); a retired one frees its place.
    expect((await register('second', ['agent-model', 'other'])).status).toBe(200);
    expect((await retire(router, 'first')).status).toBe(200);
    expect((await register('third')).status).toBe(200);
    const models = Array.from({ length: 257 }, (_, i) => `model-${i}`);
    const tooMany = await register('third', models);
    expect(tooMany.status).toBe(400);
    assertConforms('ErrorResponse', await tooMany.json());
    expect((await register('third', models.slice(1))).status).toBe(200);
    await router.stop();
  });

  it('refuses non-HTTP endpoints, malformed bodies and unknown heartbeats in the OpenAI error shape', async () => {
    const router = await startRouter({ services: [] }, env);
    const cases: Array<[unknown, number, string]> = [
      [{ name: 'x', endpoint: 'ftp://127.0.0.1/', models: ['m'] }, 400, 'endpoint'],
      [{ name: 'x', endpoint: 'not a url', models: ['m'] }, 400, 'endpoint'],
      [{ name: 'x', endpoint: 'http://user:secret@127.0.0.1:1', models: ['m'] }, 400, 'credentials'],
      [{ name: 'provider:openai', endpoint: 'http://127.0.0.1:1', models: ['gpt-4o'] }, 400, 'provider:'],
      [{ name: 'registry:m', endpoint: 'http://127.0.0.1:1', models: ['m'] }, 400, 'registry:'],
      [{ endpoint: 'http://127.0.0.1:1', models: ['m'] }, 400, 'name'],
      [{ name: 'x', endpoint: 'http://127.0.0.1:1', models: 'm' }, 400, 'models'],
      [{ name: 'x', endpoint: 'http://127.0.0.1:1', models: ['m'.repeat(300)] }, 400, 'models'],
      [{ name: 'x', endpoint: 'http://127.0.0.1:1', models: ['m\n1'] }, 400, 'models'],
      [{ name: 'x', endpoint: 'http://127.0.0.1:1', models: ['m\udc00'] }, 400, 'models'],
      // Names `switchyard status` and `logs tail` print: no escape sequences for the operator's terminal.
      [{ name: 'gpu\u001b[2J', endpoint: 'http://127.0.0.1:1', models: ['m'] }, 400, 'name'],
      // Half a surrogate pair: no header or path can carry it, so every request to the agent was a 500 and DELETE /register/{name} could not name it.
      [{ name: 'gpu-\ud800', endpoint: 'http://127.0.0.1:1', models: ['m'] }, 400, 'name'],
      [['not', 'an', 'object'], 400, ''],
      ['{"broken json', 400, ''],
    ];
    for (const [body, status, field] of cases) {
      const response = await post(router, '/register', body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      const error = ((await response.json()) as { error: { message: string; type: string } }).error;
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toContain(field);
    }
    const unknown = await post(router, '/heartbeat', { name: 'never-registered' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string; code: string } }).error).toMatchObject({ message: expect.stringContaining('never-registered'), code: 'agent_not_registered' });
    expect((await post(router, '/heartbeat', {})).status).toBe(400);
    // A name no registration could have taken (too long, an escape sequence) is a 400, not a 404 echoing it whole.
    for (const name of ['a'.repeat(100_000), 'gpu\u001b[2J']) {
      const refused = await post(router, '/heartbeat', { name });
      expect(refused.status).toBe(400);
      const error = ((await refused.json()) as { error: { message: string; code: string } }).error;
      expect(error.code).toBe('invalid_registration');
      expect(error.message.length).toBeLessThan(500);
    }
    const listed = (await services(router)).map((s) => s.name);
    for (const refused of ['x', 'gpu\u001b[2J', 'gpu-\ud800']) expect(listed).not.toContain(refused);
    await router.stop();
  });

  it('is open only on an open router, which warns about it, and closes once an API key exists', async () => {
    const freshEnv = { ...env, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-agents-')), 'models.db') };
    const router = await startRouter({ services: [] }, freshEnv);
    expect(router.lines.join('\n')).toContain('agent registration is open');
    expect((await post(router, '/register', { name: 'agent-4', endpoint: sim.url, models: ['agent-model'] })).status).toBe(200);
    const { key } = JSON.parse((await runCli(['keys', 'create', 'first'], freshEnv)).stdout) as { key: string };
    await waitFor(async () => (await post(router, '/heartbeat', { name: 'agent-4' })).status === 403, 'registration to close');
    expect((await post(router, '/register', { name: 'agent-5', endpoint: sim.url, models: ['agent-model'] })).status).toBe(403);
    expect(await agentView(router, 'agent-5', key)).toBeUndefined();
    await router.stop();
  });

  it('refuses registration without REGISTRATION_TOKEN on a router that requires credentials', async () => {
    const keyed = { ...env, SQLITE_DB_PATH: join(mkdtempSync(join(tmpdir(), 'switchyard-agents-')), 'models.db') };
    expect((await runCli(['keys', 'create', 'someone'], keyed)).code).toBe(0);
    const closed: NodeJS.ProcessEnv[] = [keyed, { ...env, ADMIN_TOKEN: 'admin-secret' }, { ...env, REQUIRE_API_KEY: '1' }];
    for (const routerEnv of closed) {
      const router = await startRouter({ services: [] }, routerEnv);
      expect(router.lines.join('\n')).toContain('agent registration is disabled');
      // Not even a valid API key or the admin token opens it: registering is not a user's or an admin view's business.
      const attempts: Array<[string, () => Promise<Response>]> = [
        ['/register', () => post(router, '/register', { name: 'rogue', endpoint: sim.url, models: ['agent-model'] }, 'admin-secret')],
        ['/heartbeat', () => post(router, '/heartbeat', { name: 'rogue' }, 'admin-secret')],
        ['DELETE /register/rogue', () => retire(router, 'rogue', 'admin-secret')],
      ];
      for (const [path, send] of attempts) {
        const response = await send();
        expect(response.status, path).toBe(403);
        const body = (await response.json()) as { error: { message: string; code: string } };
        assertConforms('ErrorResponse', body);
        expect(body.error).toMatchObject({ code: 'registration_disabled', message: expect.stringContaining('REGISTRATION_TOKEN') });
      }
      await router.stop();
    }
    const withToken = await startRouter({ services: [] }, { ...keyed, REGISTRATION_TOKEN: 'reg-secret' });
    expect(withToken.lines.join('\n')).not.toContain('agent registration is');
    expect((await post(withToken, '/register', { name: 'agent-6', endpoint: sim.url, models: ['agent-model'] }, 'reg-secret')).status).toBe(200);
    await withToken.stop();
  });

  it('requires the registration token when REGISTRATION_TOKEN is set', async () => {
    const router = await startRouter({ services: [] }, { ...env, REGISTRATION_TOKEN: 'reg-secret' });
    const registration = { name: 'agent-3', endpoint: sim.url, models: ['agent-model'] };
    for (const token of [undefined, 'wrong', 'reg-secret-but-longer']) {
      const response = await post(router, '/register', registration, token);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    }
    expect((await post(router, '/heartbeat', { name: 'agent-3' }, 'wrong')).status).toBe(401);
    expect(await agentView(router, 'agent-3')).toBeUndefined();
    expect((await post(router, '/register', registration, 'reg-secret')).status).toBe(200);
    expect((await post(router, '/heartbeat', { name: 'agent-3' }, 'reg-secret')).status).toBe(200);
    expect((await retire(router, 'agent-3')).status).toBe(401);
    expect((await retire(router, 'agent-3', 'wrong')).status).toBe(401);
    expect(await agentView(router, 'agent-3')).toMatchObject({ healthy: true });
    expect((await retire(router, 'agent-3', 'reg-secret')).status).toBe(200);
    expect(await agentView(router, 'agent-3')).toBeUndefined();
    expect(router.lines.join('\n')).not.toContain('reg-secret');
    await router.stop();
  });
});
