import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';

interface StoredRequest {
  route: string;
  model: string;
  status: number;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
}

const post = (url: string, body: string | Record<string, unknown>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('the Responses API through the router (two simulated replicas, an Anthropic target)', () => {
  let router: Proc;
  let simA: Proc;
  let simB: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    [simA, simB] = await Promise.all([startSim({ models: ['m1'], ttftMs: 5 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    router = await startRouter({
      services: [
        { name: 'a', url: simA.url },
        { name: 'b', url: simB.url },
        // Never called: the router refuses before any upstream call.
        { name: 'claude', provider: 'anthropic', url: 'http://127.0.0.1:9', models: ['claude-x'], api_key: 'sk-ant-test-key' },
      ],
      request_log: { flush_interval_ms: 100 },
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('answers client.responses.create with a Response that conforms, its usage counted in metrics and the request log', async () => {
    const response = await client.responses.create({ model: 'm1', input: 'Tell me about the fleet', max_output_tokens: 200 });
    assertConforms('Response', response);
    expect(response.status).toBe('completed');
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    const rows = await waitFor(async () => {
      const body = (await (await fetch(`${router.url}/admin/requests?since=0`)).json()) as { data: StoredRequest[] };
      return body.data.find((row) => row.route === 'responses' && row.status === 200);
    }, 'the request in the request log');
    expect(rows).toMatchObject({ model: 'm1', promptTokens: response.usage!.input_tokens, completionTokens: response.usage!.output_tokens, cachedTokens: 0 });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_requests_total', { route: 'responses', model: 'm1', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'switchyard_tokens_total', { model: 'm1', type: 'completion' })).toBeGreaterThanOrEqual(response.usage!.output_tokens);
  });

  it('sends the body upstream byte for byte, on /v1/responses and /responses alike', async () => {
    for (const path of ['/v1/responses', '/responses']) {
      const raw = `{ "model":"m1",  "input": [{"role":"user","content":"x\\u00e9"}], "metadata": {"b":"1","a":"2"} }`;
      const response = await post(`${router.url}${path}`, raw);
      expect(response.status).toBe(200);
      assertConforms('Response', await response.json());
      const target = response.headers.get('x-switchyard-target');
      const stats = (await (await fetch(`${target === 'a' ? simA.url : simB.url}/sim/stats`)).json()) as { lastRequest: { path: string; body: string } };
      expect(stats.lastRequest).toMatchObject({ path: '/v1/responses', body: raw });
    }
  });

  it('answers 400 in the OpenAI shape for a body without model or input, or with an input neither string nor array', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ input: 'hi' }, 'model', 'missing_required_parameter'],
      [{ model: 'm1' }, 'input', 'missing_required_parameter'],
      [{ model: 'm1', input: 42 }, 'input', 'invalid_type'],
      [{ model: 'm1', input: { role: 'user' } }, 'input', 'invalid_type'],
    ];
    for (const [body, param, code] of cases) {
      const response = await post(`${router.url}/v1/responses`, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code } });
    }
  });

  it('refuses a model served by Anthropic with a 400 that names the target, without translating', async () => {
    const failure = await client.responses.create({ model: 'claude-x', input: 'hi' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    const error = (failure as InstanceType<typeof OpenAI.BadRequestError>).error as { code: string; message: string };
    expect(error.code).toBe('unsupported_endpoint');
    expect(error.message).toContain("target 'claude'");
    expect(error.message).toContain('/v1/responses');
  });
});
