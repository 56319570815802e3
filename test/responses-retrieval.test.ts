import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms, RESPONSE_EVENT_SCHEMA } from './support/conformance.js';
import { getJson, listenOnLoopback, postJson } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { loggedRequest } from './support/request-log-rows.js';
import { expectRetrieveQueriesRefused } from './support/retrieve-queries.js';
import { RETRIEVE_INCLUDES } from '../src/server/retrieve-query.js';

type ApiFailure = InstanceType<typeof OpenAI.APIError>;

const ADMIN = { authorization: 'Bearer admin-secret' };

/** What a call answered: the SDK's value, or its error. */
const outcome = <T>(call: Promise<T>): Promise<T | ApiFailure> => call.catch((error: unknown) => error as ApiFailure);

/** Requests each sim has received so far. */
async function simRequests(sims: Proc[]): Promise<number[]> {
  return Promise.all(sims.map(async (sim) => ((await getJson(`${sim.url}/sim/stats`)).body as { requests: number }).requests));
}

/**
 * A replica holding one stored response: it answers the create of `id` and health probes, and
 * hands other requests (calls on the response) to `onCall`.
 */
async function startHolder(id: string, onCall: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ holder: Server; url: string }> {
  const holder = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/responses') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, object: 'response', status: 'completed', model: 'm1', output: [], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } }));
        return;
      }
      if (req.method === 'GET' && req.url?.startsWith(`/v1/responses/${id}`)) return onCall(req, res);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
  });
  return { holder, url: await listenOnLoopback(holder) };
}

describe('calls on a stored response (retrieve, input items, cancel, delete) reach the replica holding it', () => {
  let router: Proc;
  let sims: Proc[];
  let client: OpenAI;

  /** A response made through the router, and the replica that made (and holds) it. */
  const made = async (input: string) => {
    const { data, response } = await client.responses.create({ model: 'm1', input }).withResponse();
    return { response: data, holder: response.headers.get('x-switchyard-target')! };
  };

  beforeAll(async () => {
    sims = await Promise.all([startSim({ models: ['m1', 'm2'], ttftMs: 5 }), startSim({ models: ['m1', 'm2'], ttftMs: 5 })]);
    // Round-robin: a call routed by the policy would reach the replica that does not hold the response every other time.
    router = await startRouter(
      {
        routing: { policy: 'round-robin' },
        services: sims.map((sim, i) => ({ name: `r${i}`, url: sim.url })),
        request_log: { flush_interval_ms: 100 },
        // A stopped holder is found unhealthy within a second.
        health_check: { interval_s: 0.5, timeout_s: 0.5 },
      },
      { ADMIN_TOKEN: 'admin-secret' },
    );
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('retrieves the response, whole and streamed, and lists its input items, from its holder every time; shapes conform', async () => {
    const { response, holder } = await made('Tell me about the yard');
    for (let i = 0; i < 4; i++) {
      const { data, response: answer } = await client.responses.retrieve(response.id).withResponse();
      expect(answer.headers.get('x-switchyard-target'), `retrieve ${i}`).toBe(holder);
      expect(answer.headers.get('x-switchyard-overhead-ms')).toMatch(/^\d+\.\d{3}$/);
      assertConforms('Response', data);
      expect(data).toMatchObject({ id: response.id, status: 'completed', model: 'm1' });
      expect(data.output_text).toBe(response.output_text);
    }

    const events = [];
    for await (const event of await client.responses.retrieve(response.id, { stream: true })) {
      assertConforms(RESPONSE_EVENT_SCHEMA[event.type] ?? 'ResponseStreamEvent', event);
      events.push(event);
    }
    const last = events.at(-1)!;
    expect(last.type).toBe('response.completed');
    expect(last.type === 'response.completed' && last.response.id).toBe(response.id);
    const resumed = [];
    for await (const event of await client.responses.retrieve(response.id, { stream: true, starting_after: 2 })) resumed.push(event.sequence_number);
    expect(resumed).toEqual(events.slice(3).map((event) => event.sequence_number));

    const items = [];
    for await (const item of client.responses.inputItems.list(response.id)) items.push(item);
    expect(items).toMatchObject([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Tell me about the yard' }] }]);
    // The unprefixed twin, and the raw page against the OpenAPI document.
    for (let i = 0; i < 2; i++) {
      const page = await getJson(`${router.url}/responses/${response.id}/input_items?order=asc&limit=5`);
      expect(page.status).toBe(200);
      expect(page.headers.get('x-switchyard-target')).toBe(holder);
      assertConforms('ResponseItemList', page.body);
    }
  });

  it('answers HEAD on a retrieve or an input-item list as it answers GET, without the body, as on every GET route', async () => {
    const { response, holder } = await made('Are you there?');
    for (const path of [`/v1/responses/${response.id}`, `/responses/${response.id}/input_items`, '/v1/responses/resp_unknown', '/v1/models', '/health']) {
      const get = await fetch(`${router.url}${path}`);
      const getBody = await get.text();
      const head = await fetch(`${router.url}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(get.status);
      expect(await head.text(), path).toBe('');
      for (const header of ['content-type', 'content-length', 'x-switchyard-target']) expect(head.headers.get(header), `${path} ${header}`).toBe(get.headers.get(header));
      expect(Number(head.headers.get('content-length')), path).toBe(Buffer.byteLength(getBody));
    }
    expect((await fetch(`${router.url}/v1/responses/${response.id}`, { method: 'HEAD' })).headers.get('x-switchyard-target')).toBe(holder);
  });

  it("relays the holder's own answer to cancelling a completed response (400, as OpenAI answers for a response not made in the background)", async () => {
    const { response, holder } = await made('Cancel me');
    for (let i = 0; i < 2; i++) {
      const refused = await outcome(client.responses.cancel(response.id));
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as ApiFailure).headers?.get('x-switchyard-target')).toBe(holder);
      assertConforms('Error', (refused as ApiFailure).error);
      expect((refused as ApiFailure).message).toContain('Cannot cancel a synchronous response');
    }
  });

  it('deletes the response on its holder, then forgets it: the next call is the router’s own 404', async () => {
    const { response, holder } = await made('Delete me');
    const deleted = await fetch(`${router.url}/v1/responses/${response.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(deleted.headers.get('x-switchyard-target')).toBe(holder);
    expect(await deleted.json()).toEqual({ id: response.id, object: 'response', deleted: true });
    const before = await simRequests(sims);
    const gone = await outcome(client.responses.retrieve(response.id));
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect((gone as ApiFailure).code).toBe('response_not_found');
    expect(await simRequests(sims)).toEqual(before);

    const other = await made('Delete me through the SDK');
    await client.responses.delete(other.response.id);
    expect(await outcome(client.responses.inputItems.list(other.response.id))).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('answers 404 response_not_found naming an id no replica is known to hold, for every call, prefixed or not, without asking any replica', async () => {
    const before = await simRequests(sims);
    const calls: Array<[string, string]> = [
      ['GET', '/v1/responses/resp_nobody'],
      ['GET', '/responses/resp_nobody/'],
      ['DELETE', '/v1/responses/resp_nobody'],
      ['POST', '/v1/responses/resp_nobody/cancel'],
      ['GET', '/responses/resp_nobody/input_items?limit=2'],
    ];
    for (const [method, path] of calls) {
      const answer = await fetch(`${router.url}${path}`, { method });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(await answer.json()).toEqual({ error: { message: expect.stringContaining("'resp_nobody'"), type: 'invalid_request_error', param: null, code: 'response_not_found' } });
    }
    const unknown = await outcome(client.responses.retrieve('resp_nobody'));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    // An id as long as a request line may be is repeated only in part.
    const long = `resp_${'x'.repeat(12_000)}`;
    for (const [method, suffix] of [['GET', ''], ['DELETE', ''], ['POST', '/cancel'], ['GET', '/input_items']]) {
      const answer = await fetch(`${router.url}/v1/responses/${long}${suffix}`, { method });
      expect(answer.status, `${method} ${suffix}`).toBe(404);
      const { error } = (await answer.json()) as { error: { message: string; code: string } };
      expect(error.code).toBe('response_not_found');
      expect(error.message).toContain(`'${long.slice(0, 64)}…'`);
      expect(error.message.length, `${method} ${suffix}`).toBeLessThan(300);
    }
    expect(await simRequests(sims)).toEqual(before);
    // Other methods and deeper paths are no route.
    const other = await fetch(`${router.url}/v1/responses/resp_nobody/other`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('unknown_route');
    // Nor is its whole path repeated where it is not valid percent-encoding, or no route.
    for (const [path, status, code] of [[`${long}%FF`, 400, 'invalid_url'], [`${long}/other`, 404, 'unknown_route']] as const) {
      const answer = await fetch(`${router.url}/v1/responses/${path}`);
      expect(answer.status, code).toBe(status);
      const { error } = (await answer.json()) as { error: { message: string; code: string } };
      expect(error).toMatchObject({ code, message: expect.stringContaining(`/v1/responses/${long.slice(0, 40)}`) });
      expect(error.message.length, code).toBeLessThan(300);
    }
  });

  it("checks a retrieve's query as OpenAI documents it, before asking the holder: include values of its enum, stream a boolean spelled true or false, starting_after a sequence number", async () => {
    const { response, holder } = await made('Query me');
    const includes = (JSON.parse(readFileSync(join(import.meta.dirname, '../../shared/conformance/openai-openapi.json'), 'utf8')) as { components: { schemas: { IncludeEnum: { enum: string[] } } } }).components.schemas.IncludeEnum.enum;
    expect([...RETRIEVE_INCLUDES]).toEqual(includes);
    const before = await simRequests(sims);
    await expectRetrieveQueriesRefused(`${router.url}/v1/responses/${response.id}`);
    expect(await simRequests(sims)).toEqual(before);
    // Accepted, and sent to the holder as they came.
    const accepted = await client.responses.retrieve(response.id, { include: ['message.output_text.logprobs', 'reasoning.encrypted_content'], stream: false });
    expect(accepted.id).toBe(response.id);
    const repeated = await fetch(`${router.url}/v1/responses/${response.id}?include=message.output_text.logprobs&include=file_search_call.results&stream=false&include_obfuscation=false`);
    expect(repeated.status).toBe(200);
    expect(repeated.headers.get('x-switchyard-target')).toBe(holder);
    const replay = await fetch(`${router.url}/v1/responses/${response.id}?stream=true&include[]=message.output_text.logprobs&starting_after=0`);
    expect(replay.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await replay.text()).toContain('response.completed');
  });

  it('counts each call under its route and the model the response was made with, and logs who held it', async () => {
    const { response, holder } = await made('Count me');
    await client.responses.retrieve(response.id, {}, { headers: { 'x-request-id': 'retrieve-1' } });
    await outcome(client.responses.retrieve('resp_nobody', {}, { headers: { 'x-request-id': 'retrieve-unknown' } }));
    const row = (id: string) => loggedRequest(router.url, id, ADMIN);
    expect(await row('retrieve-1')).toMatchObject({ route: 'responses.retrieve', model: 'm1', target: holder, status: 200, decision: `response holder: ${holder}` });
    expect(await row('retrieve-unknown')).toMatchObject({ route: 'responses.retrieve', model: 'unknown', target: null, status: 404 });
    const metrics = await (await fetch(`${router.url}/metrics`, { headers: ADMIN })).text();
    expect(metricValue(metrics, 'switchyard_requests_total', { route: 'responses.retrieve', model: 'm1', target: holder, status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'switchyard_requests_total', { route: 'responses.retrieve', model: 'unknown', target: 'none', status: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('explains a request continuing a stored response: the replica holding it decides (POST /route/explain)', async () => {
    const { response, holder } = await made('Explain my next turn');
    for (let i = 0; i < 2; i++) {
      const explained = await postJson(`${router.url}/route/explain`, { model: 'm1', input: 'next', previous_response_id: response.id });
      expect(explained.status).toBe(200);
      expect(explained.body).toMatchObject({ target: holder, reason: 'previous-response', affinity: true, previous_response: { id: response.id, holder, decided: true } });
    }
    const unknown = await postJson(`${router.url}/route/explain`, { model: 'm1', input: 'next', previous_response_id: 'resp_nobody' });
    expect(unknown.body).toMatchObject({ previous_response: { id: 'resp_nobody', holder: null, decided: false } });
    expect(unknown.body.reason).not.toBe('previous-response');
  });

  it("keeps a response to the key that made it, checks a key's models against the model it was made with, answers 503 while the holder is unhealthy", async () => {
    // Made while the router was open: no key owns it.
    const { response: open } = await made('made before any key existed');
    const createKey = async (name: string, models: string[]) => (await postJson(`${router.url}/admin/keys`, { name, models }, ADMIN)).body as { key: string };
    const [onlyM1, onlyM2, alsoM1] = await Promise.all([createKey('only-m1', ['m1']), createKey('only-m2', ['m2']), createKey('also-m1', ['m1'])]);
    const m1Client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: onlyM1.key, maxRetries: 0 });
    const m2Client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: onlyM2.key, maxRetries: 0 });
    const otherM1Client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: alsoM1.key, maxRetries: 0 });
    const { data: response, response: answer } = await m1Client.responses.create({ model: 'm1', input: 'mine' }).withResponse();
    const holder = answer.headers.get('x-switchyard-target')!;
    expect((await m1Client.responses.retrieve(response.id)).id).toBe(response.id);
    // Another key, even one allowed the model, is told the response does not exist: the same 404 as an unknown id, nothing asked of the holder.
    for (const other of [otherM1Client, m2Client]) {
      const before = await simRequests(sims);
      const hidden = await outcome(other.responses.retrieve(response.id));
      expect(hidden).toBeInstanceOf(OpenAI.NotFoundError);
      expect((hidden as ApiFailure).code).toBe('response_not_found');
      expect(await outcome(other.responses.delete(response.id))).toBeInstanceOf(OpenAI.NotFoundError);
      expect(await simRequests(sims)).toEqual(before);
    }
    // Explaining such a continuation tells another key no more: the holder is unknown to it, and the answer is its request's.
    const explain = (key: string) => postJson(`${router.url}/route/explain`, { model: 'm1', input: 'go on', previous_response_id: response.id }, { authorization: `Bearer ${key}` });
    expect(await explain(alsoM1.key)).toMatchObject({ status: 404, body: { error: { code: 'previous_response_not_found', param: 'previous_response_id' } } });
    expect(JSON.stringify((await explain(alsoM1.key)).body)).not.toContain(holder);
    expect((await explain(onlyM1.key)).body).toMatchObject({ target: holder, previous_response: { holder, decided: true } });
    expect((await explain('admin-secret')).body).toMatchObject({ target: holder, previous_response: { holder, decided: true } });
    const before = await simRequests(sims);
    const continued = await outcome(otherM1Client.responses.create({ model: 'm1', input: 'go on', previous_response_id: response.id }));
    expect(continued).toBeInstanceOf(OpenAI.NotFoundError);
    expect(continued as ApiFailure).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' });
    expect(await simRequests(sims)).toEqual(before);
    expect((await m1Client.responses.create({ model: 'm1', input: 'go on', previous_response_id: response.id })).status).toBe('completed');
    // A response no key owns is any key's that may use its model.
    expect((await m1Client.responses.retrieve(open.id)).id).toBe(open.id);
    const refused = await outcome(m2Client.responses.retrieve(open.id));
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as ApiFailure).code).toBe('model_not_allowed');
    expect((refused as ApiFailure).message).toContain("'m1'");
    // Nor continues one: its holder serves m2 too, and would go on from m1's conversation.
    const beforeContinuing = await simRequests(sims);
    const notContinued = await outcome(m2Client.responses.create({ model: 'm2', input: 'go on', previous_response_id: open.id }));
    expect(notContinued).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(notContinued as ApiFailure).toMatchObject({ code: 'model_not_allowed', param: 'model', message: expect.stringContaining("'m1'") });
    expect(await simRequests(sims)).toEqual(beforeContinuing);
    expect(await m1Client.responses.create({ model: 'm1', input: 'go on', previous_response_id: open.id })).toMatchObject({ status: 'completed', previous_response_id: open.id });
    // Explained with that key, both are the same 403 as its requests': a model off its list, or continuing a response made with one.
    const explainFor = (key: string, body: object) => postJson(`${router.url}/route/explain`, body, { authorization: `Bearer ${key}` });
    const modelRefused = await explainFor(onlyM2.key, { model: 'm1', input: 'go on' });
    expect(modelRefused).toMatchObject({ status: 403, body: { error: { code: 'model_not_allowed', param: 'model', type: 'permission_error', message: expect.stringContaining("'m1'") } } });
    const continuationRefused = await explainFor(onlyM2.key, { model: 'm2', input: 'go on', previous_response_id: open.id });
    expect(continuationRefused).toMatchObject({ status: 403, body: { error: { code: 'model_not_allowed', param: 'model', message: expect.stringContaining("'m1'") } } });
    expect((await explainFor(onlyM2.key, { model: 'm2', input: 'go on' })).status).toBe(200);
    expect((await explainFor(onlyM1.key, { model: 'm1', input: 'go on', previous_response_id: open.id })).body).toMatchObject({ previous_response: { id: open.id, model: 'm1' } });
    expect((await explainFor('admin-secret', { model: 'm2', input: 'go on', previous_response_id: open.id })).status).toBe(200);
    // Without a key, nothing.
    expect((await fetch(`${router.url}/v1/responses/${response.id}`)).status).toBe(401);

    await sims[Number(holder.slice(1))]!.stop();
    const unavailable = await waitFor(async () => {
      const failure = await outcome(m1Client.responses.retrieve(response.id));
      return failure instanceof OpenAI.InternalServerError && failure.status === 503 ? failure : undefined;
    }, 'the holder marked unhealthy');
    expect(unavailable.code).toBe('response_holder_unavailable');
    expect(unavailable.message).toContain(`'${holder}'`);
  });
});

describe('calls on a response held by an agent that has left the fleet', () => {
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 5 });
    router = await startRouter({ services: [] });
    expect((await postJson(`${router.url}/register`, { name: 'agent-1', endpoint: sim.url, models: ['m1'] })).status).toBe(200);
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('answers 404 response_not_found naming the replica that held it', async () => {
    const response = await client.responses.create({ model: 'm1', input: 'before the agent retires' });
    expect((await client.responses.retrieve(response.id)).id).toBe(response.id);
    expect((await fetch(`${router.url}/register/agent-1`, { method: 'DELETE' })).status).toBe(200);
    const gone = await outcome(client.responses.retrieve(response.id));
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect((gone as ApiFailure).code).toBe('response_not_found');
    expect((gone as ApiFailure).message).toContain("'agent-1'");
  });
});

describe("a holder's failures answering calls on its stored responses", () => {
  let router: Proc;
  let holder: Server;
  /** How the holder answers the next retrieve: a status, or no answer (the connection cut). */
  const retrieveAnswers: Array<number | 'hang-up'> = [];
  let retrieves = 0;

  beforeAll(async () => {
    let url: string;
    ({ holder, url } = await startHolder('resp_held', (_req, res) => {
      retrieves++;
      const answer = retrieveAnswers.shift() ?? 200;
      if (answer === 'hang-up') return void res.socket?.destroy();
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(answer === 200 ? JSON.stringify({ id: 'resp_held', object: 'response', status: 'completed' }) : '{"error":{"message":"engine trouble"}}');
    }));
    router = await startRouter({
      services: [{ name: 'holder', url, models: ['m1'] }],
      // Only failed requests take the holder out here: no probe brings it back during the test, no cooldown benches it.
      health_check: { interval_s: 600, unhealthy_interval_s: 600, failure_threshold: 3 },
      cooldown: { failure_threshold: 100 },
    });
  });
  afterAll(async () => {
    await stopAll();
    holder.closeAllConnections();
    holder.close();
  });

  const retrieve = () => getJson(`${router.url}/v1/responses/resp_held`);
  const holderHealthy = async () => ((await getJson(`${router.url}/services`)).body as { services: Array<{ name: string; healthy: boolean }> }).services.find((s) => s.name === 'holder')!.healthy;

  it('count against its health as failed inference requests do: consecutive ones (no answer, 502/503/504) eject it', async () => {
    expect((await postJson(`${router.url}/v1/responses`, { model: 'm1', input: 'hold this' })).status).toBe(200);
    // A success between failures starts the count again, as for inference requests.
    retrieveAnswers.push(503, 200, 'hang-up', 504);
    expect((await retrieve()).status).toBe(503);
    expect((await retrieve()).status).toBe(200);
    expect((await retrieve()).status).toBe(502);
    expect((await retrieve()).status).toBe(504);
    expect(await holderHealthy()).toBe(true);
    retrieveAnswers.push(502);
    expect((await retrieve()).status).toBe(502);
    expect(await holderHealthy()).toBe(false);
    // Taken out: the router answers for it, without asking.
    const asked = retrieves;
    const refused = await retrieve();
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('response_holder_unavailable');
    expect(retrieves).toBe(asked);
  });
});

describe('HEAD on a streamed retrieve', () => {
  let router: Proc;
  let holder: Server;
  /** Streamed retrieves the holder has begun, and those whose connection the router has since closed. */
  let replaysBegun = 0;
  let replaysClosed = 0;

  beforeAll(async () => {
    let url: string;
    ({ holder, url } = await startHolder('resp_long', (_req, res) => {
      // A replay that takes its time: its first event, then nothing more until the router lets go.
      replaysBegun++;
      res.on('close', () => replaysClosed++);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write(`event: response.created\ndata: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: { id: 'resp_long', status: 'in_progress' } })}\n\n`);
    }));
    router = await startRouter({ services: [{ name: 'holder', url, models: ['m1'] }], request_log: { flush_interval_ms: 100 } });
  });
  afterAll(async () => {
    await stopAll();
    holder.closeAllConnections();
    holder.close();
  });

  it("answers with the status and content type GET would send, at once, and lets go of the holder's replay instead of reading it through", async () => {
    expect((await postJson(`${router.url}/v1/responses`, { model: 'm1', input: 'a long one' })).status).toBe(200);
    const head = await fetch(`${router.url}/v1/responses/resp_long?stream=true`, { method: 'HEAD', signal: AbortSignal.timeout(3000), headers: { 'x-request-id': 'head-streamed' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(head.headers.get('x-switchyard-target')).toBe('holder');
    expect(await head.text()).toBe('');
    await waitFor(() => replaysClosed === replaysBegun, "the holder's replay closed");
    expect(replaysBegun).toBe(1);
    const row = await loggedRequest(router.url, 'head-streamed');
    expect(row).toMatchObject({ route: 'responses.retrieve', model: 'm1', target: 'holder', status: 200 });
  });
});
