import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

const APP = 'https://app.example';
const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, ...extra });

describe('CORS for browser clients', () => {
  let sim: Proc;
  let listed: Proc;
  let anyOrigin: Proc;
  let off: Proc;
  const post = (router: Proc, origin: string | undefined, body = chatBody()) =>
    fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body });
  const preflight = (router: Proc, origin: string, path = '/v1/chat/completions') =>
    fetch(`${router.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' },
    });

  beforeAll(async () => {
    sim = await startSim({ models: ['m1'] });
    const services = [{ name: 'a', url: sim.url }];
    [listed, anyOrigin, off] = await Promise.all([
      startRouter({ services, cors: { origins: [APP, 'http://localhost:3000'] } }),
      startRouter({ services }, { CORS_ORIGINS: '*' }),
      startRouter({ services }),
    ]);
  });
  afterAll(stopAll);

  it('answers the preflight of a listed origin with the methods and the headers it asked for', async () => {
    const response = await preflight(listed, APP);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('vary')).toBe('Origin');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-stainless-os');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets a listed origin read answers, streams, errors and the other routes, with the router headers exposed', async () => {
    const answer = await post(listed, APP);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
    expect(answer.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(answer.headers.get('x-request-id')).toBeTruthy();
    await answer.text();
    const stream = await post(listed, APP, chatBody({ stream: true }));
    expect(stream.headers.get('access-control-allow-origin')).toBe(APP);
    expect(await stream.text()).toContain('data: [DONE]');
    const invalid = await post(listed, APP, '{"model":');
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('access-control-allow-origin')).toBe(APP);
    const models = await fetch(`${listed.url}/v1/models`, { headers: { origin: APP } });
    expect(models.status).toBe(200);
    expect(models.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives other origins and same-origin requests no CORS headers, and their preflight no answer', async () => {
    const other = await fetch(`${listed.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(listed, 'https://evil.example')).status).toBe(404);
    const sameOrigin = await post(listed, undefined);
    expect(sameOrigin.status).toBe(200);
    expect(sameOrigin.headers.get('access-control-allow-origin')).toBeNull();
    // A page the router served itself sends its own origin.
    expect((await post(listed, listed.url)).status).toBe(200);
  });

  it('refuses what a page of an origin not allowed sends without a preflight (a form, a no-cors fetch): inference, agent registration', async () => {
    for (const router of [listed, off]) {
      const inference = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: chatBody() });
      expect(inference.status).toBe(403);
      expect(((await inference.json()) as { error: { code: string } }).error.code).toBe('cross_origin_refused');
      const registration = JSON.stringify({ name: 'planted', endpoint: 'http://127.0.0.1:9', models: ['m1'] });
      const register = await fetch(`${router.url}/register`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'null' }, body: registration });
      expect(register.status).toBe(403);
      const services = (await (await fetch(`${router.url}/services`)).json()) as { services: Array<{ name: string }> };
      expect(services.services.map((s) => s.name)).not.toContain('planted');
    }
  });

  it("refuses the Messages API route (which takes x-api-key) and its token count from a foreign page too, in Anthropic's error shape", async () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const refused = await fetch(`${off.url}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: chatBody() });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ type: 'error', error: { type: 'permission_error', message: expect.stringContaining("'https://evil.example'") } });
    }
  });

  it('allows any origin with "*" (set here through CORS_ORIGINS), without varying by origin', async () => {
    const answer = await post(anyOrigin, 'https://anywhere.example');
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.get('vary')).toBeNull();
    expect((await preflight(anyOrigin, 'https://anywhere.example')).status).toBe(204);
  });

  it('is off by default', async () => {
    const answer = await fetch(`${off.url}/v1/models`, { headers: { origin: APP } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(off, APP)).status).toBe(403);
    expect((await preflight(off, APP)).status).toBe(404);
  });
});

describe('DNS rebinding: same-origin browser requests through a host name public DNS can point at the router', () => {
  let sim: Proc;
  let guarded: Proc;
  let listed: Proc;
  let anyHost: Proc;
  /** What a browser sends as its own origin for a page loaded through `host` (fetch cannot set Host). */
  const send = async (router: Proc, path: string, headers: Record<string, string>, body?: string) => {
    const answer = await request(`${router.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: answer.statusCode, text: await answer.body.text() };
  };
  const rebound = (host: string) => ({ host, origin: `http://${host}` });
  const sameOrigin = (host: string) => ({ host, 'sec-fetch-site': 'same-origin' });
  const attempts = async (router: Proc) => {
    const fleet = (await (await fetch(`${router.url}/admin/fleet`)).json()) as { services: Array<{ request_count: number }> };
    return fleet.services.reduce((sum, s) => sum + s.request_count, 0);
  };
  const expectRefused = (answer: { status: number; text: string }, host: string) => {
    expect(answer.status).toBe(403);
    const body = JSON.parse(answer.text) as { error: { type: string; code: string; message: string } };
    assertConforms('ErrorResponse', body);
    expect(body.error).toMatchObject({ type: 'permission_error', code: 'host_not_allowed', message: expect.stringContaining(`'${host}'`) });
    expect(body.error.message).toContain('allowed_hosts');
  };

  beforeAll(async () => {
    sim = await startSim({ models: ['m1'] });
    const services = [{ name: 'a', url: sim.url }];
    [guarded, listed, anyHost] = await Promise.all([
      startRouter({ services }),
      startRouter({ services, allowed_hosts: ['LLM.example.com.', '*.corp.example.com'] }),
      startRouter({ services }, { ALLOWED_HOSTS: '*' }),
    ]);
  });
  afterAll(stopAll);

  it('refuses a rebound page\'s POST (Origin equal to its public Host) before any target is called', async () => {
    const host = `evil.example:${guarded.port}`;
    const before = await attempts(guarded);
    expectRefused(await send(guarded, '/v1/chat/completions', rebound(host), chatBody()), 'evil.example');
    expectRefused(await send(guarded, '/register', rebound(host), JSON.stringify({ name: 'planted', endpoint: 'http://127.0.0.1:9', models: ['m1'] })), 'evil.example');
    expect(await attempts(guarded)).toBe(before);
    const services = (await (await fetch(`${guarded.url}/services`)).json()) as { services: Array<{ name: string }> };
    expect(services.services.map((s) => s.name)).not.toContain('planted');
  });

  it('refuses its GETs, which carry Sec-Fetch-Site: same-origin and no Origin, on the fast path and on the other routes', async () => {
    for (const path of ['/admin/requests', '/v1/models', '/ui/state']) expectRefused(await send(guarded, path, sameOrigin('Evil.Example.:8000')), 'evil.example');
    expectRefused(await send(guarded, '/v1/chat/completions', sameOrigin('evil.example'), chatBody()), 'evil.example');
  });

  it("answers in Anthropic's error shape on the Messages API", async () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const refused = await send(guarded, path, rebound('evil.example'), chatBody());
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.text)).toEqual({ type: 'error', error: { type: 'permission_error', message: expect.stringContaining("'evil.example'") } });
    }
  });

  it('serves the same requests through IP literals, localhost, single-label and private names, which no public DNS can serve', async () => {
    const port = guarded.port;
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `switchyard:${port}`, `api.localhost:${port}`, 'router.internal', 'gpu.local', 'router.home.arpa.', 'box.LAN', 'x.test'];
    for (const host of hosts) {
      expect((await send(guarded, '/v1/chat/completions', rebound(host), chatBody())).status, host).toBe(200);
      expect((await send(guarded, '/v1/models', sameOrigin(host))).status, host).toBe(200);
    }
  });

  it('leaves alone whatever a page does not send as its own: SDKs, a typed URL, other sites (judged by CORS)', async () => {
    expect((await send(guarded, '/v1/chat/completions', { host: 'evil.example' }, chatBody())).status).toBe(200);
    expect((await send(guarded, '/ui/state', { host: 'evil.example', 'sec-fetch-site': 'none' })).status).toBe(200);
    expect((await send(guarded, '/v1/models', { host: 'evil.example', origin: 'https://other.example', 'sec-fetch-site': 'cross-site' })).status).toBe(200);
    const foreign = await send(guarded, '/v1/chat/completions', { host: 'evil.example', origin: 'https://other.example', 'sec-fetch-site': 'cross-site' }, chatBody());
    expect(JSON.parse(foreign.text).error.code).toBe('cross_origin_refused');
  });

  it('serves the host names allowed_hosts lists (any case, a trailing dot, *.name for its subdomains) and refuses the others', async () => {
    for (const host of ['llm.example.com', `llm.example.com:${listed.port}`, 'a.corp.example.com', 'b.a.corp.example.com']) {
      expect((await send(listed, '/v1/chat/completions', rebound(host), chatBody())).status, host).toBe(200);
    }
    for (const host of ['other.example.com', 'corp.example.com', 'xcorp.example.com']) expectRefused(await send(listed, '/v1/models', sameOrigin(host)), host);
  });

  it('is off with "*" (set here through ALLOWED_HOSTS)', async () => {
    expect((await send(anyHost, '/v1/chat/completions', rebound('evil.example'), chatBody())).status).toBe(200);
    expect((await send(anyHost, '/admin/requests', sameOrigin('evil.example'))).status).toBe(200);
  });

  it("keeps the router's own dashboard working through 127.0.0.1", async () => {
    const page = await send(guarded, '/ui', { host: `127.0.0.1:${guarded.port}`, 'sec-fetch-site': 'none' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html');
    const state = await send(guarded, '/ui/state', sameOrigin(`127.0.0.1:${guarded.port}`));
    expect(state.status).toBe(200);
    expect(JSON.parse(state.text)).toHaveProperty('activity');
  });
});
