import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
