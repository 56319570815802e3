import { createServer, type ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms, RESPONSE_EVENT_SCHEMA } from './support/conformance.js';
import { listenOnLoopback } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { loggedRequest } from './support/request-log-rows.js';
import type { StoredRequest } from '../src/store/request-log.js';

const post = (url: string, body: string | Record<string, unknown>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('the Responses API through the router (two simulated replicas)', () => {
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

  it('streams typed events that conform, ending in response.completed with neither [DONE] nor an error event, usage counted', async () => {
    const stream = await client.responses.create({ model: 'm1', input: 'Stream about the yard', stream: true }, { headers: { 'x-request-id': 'streamed-1' } });
    const events = [];
    for await (const event of stream) {
      assertConforms(RESPONSE_EVENT_SCHEMA[event.type] ?? 'ResponseStreamEvent', event);
      events.push(event);
    }
    expect(events[0]!.type).toBe('response.created');
    const last = events.at(-1)!;
    if (last.type !== 'response.completed') throw new Error(`the stream ended with ${last.type}`);
    const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
    const message = last.response.output[0];
    expect(message?.type === 'message' && message.content[0]?.type === 'output_text' ? message.content[0].text : undefined).toBe(deltas.join(''));
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(await loggedRequest(router.url, 'streamed-1')).toMatchObject({ route: 'responses', status: 200, promptTokens: last.response.usage!.input_tokens, completionTokens: last.response.usage!.output_tokens });

    const raw = await post(`${router.url}/v1/responses`, { model: 'm1', input: 'x', stream: true, max_output_tokens: 2 });
    const text = await raw.text();
    expect(text).not.toContain('[DONE]');
    expect(text).not.toContain('event: error');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: response\.incomplete\n/);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_stream_errors_total', { model: 'm1' })).toBe(0);
  });

  it('explains where a Responses API body would go (POST /route/explain)', async () => {
    const response = await post(`${router.url}/route/explain`, { model: 'm1', input: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ model: 'm1', target: expect.stringMatching(/^[ab]$/) });
    expect((await post(`${router.url}/route/explain`, { model: 'm1', input: 7 })).status).toBe(400);
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
});

/** Responses streams cut before their terminal event, cleanly (the backend ends its answer) or not (the connection drops). */
function cuttingBackend() {
  const events = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_cut","object":"response","status":"in_progress"}}\n\n');
    res.write('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":1,"item_id":"m","output_index":0,"content_index":0,"delta":"Hel","logprobs":[]}\n\n');
  };
  return createServer(async (req, res) => {
    if (req.method === 'GET') return void res.writeHead(200).end('{"status":"ok"}');
    let text = '';
    for await (const piece of req) text += piece;
    const { model } = JSON.parse(text) as { model: string };
    events(res);
    if (model === 'ends-early') res.end();
    else setTimeout(() => res.destroy(), 20);
  });
}

describe('a Responses stream cut before its terminal event', () => {
  let router: Proc;
  let client: OpenAI;
  const server = cuttingBackend();

  beforeAll(async () => {
    const url = await listenOnLoopback(server);
    router = await startRouter({
      services: [{ name: 'cutter', url, models: ['ends-early', 'drops'] }],
      health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
      cooldown: { failure_threshold: 100 },
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    server.closeAllConnections();
    server.close();
  });

  it("ends with the Responses API's own error event and counts as the backend's failure", async () => {
    for (const [model, code] of [['ends-early', 'upstream_stream_truncated'], ['drops', 'upstream_stream_error']] as const) {
      const stream = await client.responses.create({ model, input: 'hi', stream: true });
      const events = [];
      for await (const event of stream) events.push(event);
      expect(events.map((event) => event.type)).toEqual(['response.created', 'response.output_text.delta', 'error']);
      const error = events.at(-1)!;
      assertConforms('ResponseErrorEvent', error);
      expect(error).toMatchObject({ type: 'error', code, sequence_number: 2 });
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      expect(metricValue(metrics, 'switchyard_stream_errors_total', { model, target: 'cutter' })).toBe(1);
    }
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; error_count: number }> };
    expect(stats.services.find((service) => service.name === 'cutter')!.error_count).toBe(2);
  });
});

describe('previous_response_id goes back to the replica that produced the response', () => {
  let router: Proc;
  let sims: Proc[];
  let client: OpenAI;

  beforeAll(async () => {
    sims = await Promise.all([startSim({ models: ['m1'], ttftMs: 5 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    // Round-robin: without affinity, every other turn would land on the replica that never stored the previous one.
    router = await startRouter({ routing: { policy: 'round-robin' }, services: sims.map((sim, i) => ({ name: `r${i}`, url: sim.url })) });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('chains turns, streamed and not, on the replica holding each previous response', async () => {
    const first = await client.responses.create({ model: 'm1', input: 'turn 0' }).withResponse();
    const holder = first.response.headers.get('x-switchyard-target');
    let previous = first.data.id;
    for (let turn = 1; turn <= 6; turn++) {
      if (turn % 2 === 0) {
        const { data, response } = await client.responses.create({ model: 'm1', input: `turn ${turn}`, previous_response_id: previous }).withResponse();
        expect(response.headers.get('x-switchyard-target'), `turn ${turn}`).toBe(holder);
        expect(data.previous_response_id).toBe(previous);
        previous = data.id;
      } else {
        const { data: stream, response } = await client.responses.create({ model: 'm1', input: `turn ${turn}`, previous_response_id: previous, stream: true }).withResponse();
        expect(response.headers.get('x-switchyard-target'), `turn ${turn}`).toBe(holder);
        let completed: string | undefined;
        for await (const event of stream) if (event.type === 'response.completed') completed = event.response.id;
        expect(completed).toBeDefined();
        previous = completed!;
      }
    }
  });

  it('keeps no response asked not to be stored: continuing it answers 404 on any replica', async () => {
    const unstored = await client.responses.create({ model: 'm1', input: 'forget me', store: false });
    const failure = await client.responses.create({ model: 'm1', input: 'x', previous_response_id: unstored.id }).catch((error: unknown) => error);
    expect((failure as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('previous_response_not_found');
  });

  it("relays the engine's own 404 for an id no replica holds, and routes as usual once the holder is gone", async () => {
    const unknown = await client.responses.create({ model: 'm1', input: 'x', previous_response_id: 'resp_nobody' }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('previous_response_not_found');

    const { data, response } = await client.responses.create({ model: 'm1', input: 'before the holder leaves' }).withResponse();
    const holder = Number(response.headers.get('x-switchyard-target')!.slice(1));
    await sims[holder]!.stop();
    const orphan = await client.responses.create({ model: 'm1', input: 'after', previous_response_id: data.id }).withResponse().catch((error: unknown) => error);
    expect(orphan).toBeInstanceOf(OpenAI.NotFoundError);
    expect((orphan as InstanceType<typeof OpenAI.NotFoundError>).headers?.get('x-switchyard-target')).toBe(`r${1 - holder}`);
  });
});
