import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { assertConforms, RESPONSE_EVENT_SCHEMA } from './support/conformance.js';
import { fixture, FakeUpstream } from './support/fake-upstream.js';
import { runCli } from './support/cli.js';
import { postJson } from './support/http.js';
import { keptResponsesClient, makeUntilFirstDropped } from './support/kept-responses.js';
import { expectRetrieveQueriesRefused } from './support/retrieve-queries.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';

type ApiFailure = InstanceType<typeof OpenAI.APIError>;
type Response = OpenAI.Responses.Response;

const ADMIN = { authorization: 'Bearer admin-secret' };
const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] }, strict: false };
/** The texts of the fixtures' answers. */
const CLAUDE_TEXT = 'Hello! The image shows a red square on a white background.';
const GEMINI_STORY = 'Once upon a time, a très petit robot 🤖 learned to paint.';
const GEMINI_TEXT = 'AI learns patterns from data to make predictions.';

/** An SDK call's result, or the API error it failed with. */
const outcome = <T>(call: Promise<T>): Promise<T | ApiFailure> => call.catch((error: unknown) => error as ApiFailure);

/** A streamed Response's events, each checked against its schema, and the final Response as the SDK assembles it. */
async function streamed(client: OpenAI, params: OpenAI.Responses.ResponseCreateParamsStreaming): Promise<Response> {
  const stream = client.responses.stream(params);
  for await (const event of stream) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
  return stream.finalResponse();
}

type StreamEvent = OpenAI.Responses.ResponseStreamEvent;

/** The events of an SSE answer, as sent. */
async function sentEvents(answer: globalThis.Response): Promise<StreamEvent[]> {
  const text = await answer.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as StreamEvent);
}

/** A live stream's events with each run of one item's deltas made one delta, numbered again: what a replay of its Response sends. */
function deltasJoined(events: StreamEvent[]): StreamEvent[] {
  const joined: Array<StreamEvent & { delta?: string; item_id?: string }> = [];
  for (const event of events as Array<StreamEvent & { delta?: string; item_id?: string }>) {
    const last = joined.at(-1);
    if (event.type.endsWith('.delta') && last?.type === event.type && last.item_id === event.item_id) last.delta += event.delta!;
    else joined.push({ ...event });
  }
  return joined.map((event, at) => ({ ...event, sequence_number: at }));
}

/** Every call on a stored response, by its raw answer. */
const CALLS = [
  ['GET', ''],
  ['DELETE', ''],
  ['POST', '/cancel'],
  ['GET', '/input_items'],
] as const;

describe('responses the router keeps for targets that speak only chat (fake Anthropic and Gemini APIs, and a simulated engine, behind the router)', () => {
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  let sim: Proc;
  let router: Proc;
  let client: OpenAI;
  const upstreamRequests = () => anthropic.received.length + gemini.received.length;

  beforeAll(async () => {
    [anthropic, gemini, sim] = await Promise.all([FakeUpstream.start(), FakeUpstream.start(), startSim({ models: ['m1'], ttftMs: 5 })]);
    router = await startRouter(
      {
        services: [
          { name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-x'], api_key: 'sk-ant-test-key' },
          { name: 'google', provider: 'gemini', url: gemini.url, models: ['gemini-x'], api_key: 'goog-test-key' },
          { name: 'engine', url: sim.url, models: ['m1'] },
        ],
        model_groups: { either: { targets: [{ model: 'gemini-x' }, { model: 'm1' }] } },
        health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
        retry: { max_attempts: 1 },
        cooldown: { failure_threshold: 100 },
      },
      { ADMIN_TOKEN: 'admin-secret' },
    );
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await Promise.all([anthropic.close(), gemini.close()]);
  });

  it("continues a conversation with Claude by previous_response_id: Anthropic gets the whole conversation in its own format, tool call and result included, without the earlier turns' instructions", async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const first = await client.responses.create({ model: 'claude-x', instructions: 'Be brief.', input: 'Hi' });
    expect(first).toMatchObject({ store: true, previous_response_id: null });

    anthropic.reply({ status: 200, json: fixture('anthropic/message-tool-use.json') });
    const second = await client.responses.create({ model: 'claude-x', instructions: 'Use the tools.', input: [{ role: 'user', content: 'Weather in SF?' }], tools: [WEATHER_TOOL], previous_response_id: first.id });
    assertConforms('Response', second);
    expect(second).toMatchObject({ store: true, previous_response_id: first.id, instructions: 'Use the tools.' });
    const turns = [
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: CLAUDE_TEXT }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather in SF?' }] },
    ];
    expect(anthropic.last().body).toMatchObject({ system: 'Use the tools.', messages: turns });

    const call = second.output.find((item) => item.type === 'function_call')!;
    expect(call).toMatchObject({ call_id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather' });
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const third = await client.responses.create({ model: 'claude-x', input: [{ type: 'function_call_output', call_id: call.call_id, output: '18°C' }], tools: [WEATHER_TOOL], previous_response_id: second.id });
    expect(third.previous_response_id).toBe(second.id);
    expect(anthropic.last().body.system).toBeUndefined();
    expect(anthropic.last().body.messages).toEqual([
      ...turns,
      {
        role: 'assistant',
        content: [
          { type: 'text', text: "I'll check the weather in San Francisco." },
          { type: 'tool_use', id: call.call_id, name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.call_id, content: '18°C' }] },
    ]);
  });

  it('continues streamed conversations with Gemini turn after turn, each Response kept once its stream completed, and goes on without streaming', async () => {
    gemini.reply({ sse: fixture('gemini/stream-text.sse') });
    const first = await streamed(client, { model: 'gemini-x', input: 'Tell a story', stream: true });
    expect(first).toMatchObject({ status: 'completed', store: true });

    gemini.reply({ sse: fixture('gemini/stream-text.sse') });
    const second = await streamed(client, { model: 'gemini-x', input: 'Another one', previous_response_id: first.id, stream: true });
    expect(second.previous_response_id).toBe(first.id);
    const turns = [
      { role: 'user', parts: [{ text: 'Tell a story' }] },
      { role: 'model', parts: [{ text: GEMINI_STORY }] },
      { role: 'user', parts: [{ text: 'Another one' }] },
    ];
    expect(gemini.last().body.contents).toEqual(turns);

    gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
    const third = await client.responses.create({ model: 'gemini-x', input: 'Summarise', previous_response_id: second.id });
    expect(third).toMatchObject({ previous_response_id: second.id, output_text: GEMINI_TEXT });
    expect(gemini.last().body.contents).toEqual([...turns, { role: 'model', parts: [{ text: GEMINI_STORY }] }, { role: 'user', parts: [{ text: 'Summarise' }] }]);
  });

  it('retrieves a kept response as it was answered, lists the input items of its whole conversation page by page, deletes it; no target is asked; shapes conform', async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') }, { status: 200, json: fixture('anthropic/message-text.json') });
    const first = await client.responses.create({ model: 'claude-x', input: 'Hi' });
    const second = await client.responses.create({ model: 'claude-x', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Go on' }] }], previous_response_id: first.id });
    const before = upstreamRequests();

    const retrieved = await client.responses.retrieve(second.id);
    assertConforms('Response', retrieved);
    expect(retrieved).toEqual(second);
    const head = await fetch(`${router.url}/v1/responses/${second.id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(await head.text()).toBe('');

    const page = await fetch(`${router.url}/v1/responses/${second.id}/input_items?order=asc`);
    expect(page.status).toBe(200);
    const list = (await page.json()) as { data: Array<Record<string, unknown>>; first_id: string; last_id: string; has_more: boolean };
    assertConforms('ResponseItemList', list);
    expect(list.data).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Hi' }] },
      first.output[0],
      { id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Go on' }] },
    ]);
    expect(list).toMatchObject({ object: 'list', first_id: list.data[0]!.id, last_id: list.data[2]!.id, has_more: false });
    // The SDK pages through them newest first (the default order), one at a time.
    const ids: string[] = [];
    for await (const item of client.responses.inputItems.list(second.id, { limit: 1 })) ids.push(item.id!);
    expect(ids).toEqual(list.data.map((item) => item.id).reverse());
    const firstPage = await (await fetch(`${router.url}/v1/responses/${second.id}/input_items?order=asc&limit=2`)).json();
    expect(firstPage).toMatchObject({ data: list.data.slice(0, 2), first_id: list.data[0]!.id, last_id: list.data[1]!.id, has_more: true });
    const nextPage = await (await fetch(`${router.url}/v1/responses/${second.id}/input_items?order=asc&limit=2&after=${list.data[1]!.id as string}`)).json();
    expect(nextPage).toMatchObject({ data: list.data.slice(2), has_more: false });
    // The first turn's own items: its input and nothing of later turns.
    expect((await client.responses.inputItems.list(first.id)).data.map((item) => item.id)).toEqual([list.data[0]!.id]);

    for (const [query, param] of [
      ['limit=0', 'limit'],
      ['limit=ten', 'limit'],
      ['order=sideways', 'order'],
      ['after=msg_nothing', 'after'],
    ]) {
      const refused = await fetch(`${router.url}/v1/responses/${second.id}/input_items?${query}`);
      expect(refused.status, query).toBe(400);
      expect(await refused.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code: 'invalid_value' } });
    }
    const cancelled = await outcome(client.responses.cancel(second.id));
    expect(cancelled).toBeInstanceOf(OpenAI.BadRequestError);
    assertConforms('Error', (cancelled as ApiFailure).error);

    const deleted = await fetch(`${router.url}/v1/responses/${second.id}`, { method: 'DELETE' });
    expect(await deleted.json()).toEqual({ id: second.id, object: 'response', deleted: true });
    for (const [method, suffix] of CALLS) {
      const gone = await fetch(`${router.url}/v1/responses/${second.id}${suffix}`, { method });
      expect(gone.status, `${method} ${suffix}`).toBe(404);
      expect(await gone.json()).toEqual({ error: { message: expect.stringContaining(second.id), type: 'invalid_request_error', param: null, code: 'response_not_found' } });
    }
    const continued = await outcome(client.responses.create({ model: 'claude-x', input: 'More', previous_response_id: second.id }));
    expect(continued).toBeInstanceOf(OpenAI.NotFoundError);
    expect((continued as ApiFailure).error).toEqual({ message: expect.stringContaining(second.id), type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' });
    // Deleting a response leaves the one it continued.
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
    expect(upstreamRequests()).toBe(before);
  });

  it("lists the input items a client sent without ids or statuses, or with ids it had used, in the API's shapes, each id once, so that paging ends; a continuation still pairs a local shell call with its output", async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') }, { status: 200, json: fixture('anthropic/message-text.json') });
    const first = await client.responses.create({
      model: 'claude-x',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' }], id: 'dup' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking', annotations: [] }], id: 'dup', status: 'completed' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
        // A local shell call and its output named by the call's id alone, which the continuation pairs them by.
        { type: 'local_shell_call', id: 'dup', action: { type: 'exec', command: ['ls'], env: {} }, status: 'completed' },
        { type: 'local_shell_call_output', id: 'dup', output: 'a b' },
      ] as unknown as OpenAI.Responses.ResponseInput,
    });
    // Ids of no string are the client's mistake, but the listing is the router's.
    const second = await client.responses.create({ model: 'claude-x', input: [{ role: 'user', content: 'Go on', id: 5 }, { role: 'user', content: 'Now', id: null }] as unknown as OpenAI.Responses.ResponseInput, previous_response_id: first.id });
    const shell = { id: 'dup', type: 'tool_use', name: 'local_shell', input: { command: ['ls'], env: {} } };
    expect(anthropic.last().body.messages).toContainEqual({ role: 'assistant', content: [shell] });
    expect(anthropic.last().body.messages).toContainEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'dup', content: 'a b' }] });

    const list = (await (await fetch(`${router.url}/v1/responses/${second.id}/input_items?order=asc&limit=100`)).json()) as OpenAI.Responses.ResponseItemList;
    assertConforms('ResponseItemList', list);
    const ids = list.data.map((item) => item.id);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe('dup');
    expect(list.data.slice(4, 6)).toMatchObject([
      { type: 'local_shell_call', call_id: 'dup', status: 'completed' },
      { type: 'local_shell_call_output', call_id: 'dup', output: 'a b', status: 'completed' },
    ]);
    // The SDK pages newest first until has_more is false: with an id listed twice, it went back to the first and never ended.
    const paged: string[] = [];
    for await (const item of client.responses.inputItems.list(second.id, { limit: 1 })) if (paged.push(item.id!) > ids.length) break;
    expect(paged).toEqual([...ids].reverse());
  });

  it('replays a kept streamed response as the events of its stream, each run of deltas as one: reasoning with signed thinking, text, a tool call; the SDK reads it; no target is asked', async () => {
    for (const sse of ['anthropic/stream-thinking.sse', 'anthropic/stream-tool-use.sse']) {
      anthropic.reply({ sse: fixture(sse) });
      const live = await fetch(`${router.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-x', input: 'Hi', tools: [WEATHER_TOOL], reasoning: { effort: 'low' }, stream: true }),
      });
      const liveEvents = await sentEvents(live);
      const made = (liveEvents.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response;
      const before = upstreamRequests();

      const replay = await fetch(`${router.url}/v1/responses/${made.id}?stream=true`);
      expect(replay.status, sse).toBe(200);
      expect(replay.headers.get('content-type')).toBe('text/event-stream');
      const replayed = await sentEvents(replay);
      for (const event of replayed) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
      expect(replayed, sse).toEqual(deltasJoined(liveEvents));

      // The SDK's own reading: a retrieved stream, and its stream helper on a response id.
      const events: StreamEvent[] = [];
      for await (const event of await client.responses.retrieve(made.id, { stream: true })) events.push(event);
      expect(events).toEqual(replayed);
      const helper = client.responses.stream({ response_id: made.id });
      for await (const event of helper) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
      const final = await helper.finalResponse();
      // The helper's parse adds its own fields (`output_parsed`, each text's `parsed`).
      expect(final).toMatchObject(await client.responses.retrieve(made.id));
      expect(upstreamRequests()).toBe(before);
    }
  });

  it("replays a kept response that was not streamed, incomplete, with a custom tool's call; resumes after starting_after; refuses a starting_after that is no sequence number", async () => {
    const tools = [{ type: 'custom' as const, name: 'apply_patch', description: 'Edit files.' }, WEATHER_TOOL];
    const cut = { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', stop_reason: 'max_tokens', stop_sequence: null, usage: { input_tokens: 50, output_tokens: 30 } };
    const content = [
      { type: 'text', text: 'Patching.' },
      { type: 'tool_use', id: 'toolu_01Patch', name: 'apply_patch', input: { input: '*** Begin Patch\n*** End Patch\n' } },
    ];
    anthropic.reply({ status: 200, json: JSON.stringify({ ...cut, content }) });
    const made = await client.responses.create({ model: 'claude-x', input: 'Patch it', tools });
    expect(made.status).toBe('incomplete');

    const replayed = await sentEvents(await fetch(`${router.url}/v1/responses/${made.id}?stream=true`));
    for (const event of replayed) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
    expect(replayed.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(replayed.map((event) => event.sequence_number)).toEqual(replayed.map((_, at) => at));
    expect(replayed[0]).toMatchObject({ response: { id: made.id, created_at: made.created_at, status: 'in_progress', output: [], completed_at: null, incomplete_details: null } });
    expect(replayed[0]).not.toHaveProperty('response.usage');
    expect(replayed.at(-1)).toEqual({ type: 'response.incomplete', response: await (await fetch(`${router.url}/v1/responses/${made.id}`)).json(), sequence_number: 12 });
    expect(replayed[7]).toMatchObject({ item: made.output[0] });
    expect(replayed[11]).toMatchObject({ item: made.output[1] });

    const resumed = await sentEvents(await fetch(`${router.url}/v1/responses/${made.id}?stream=true&starting_after=9`));
    expect(resumed).toEqual(replayed.slice(10));
    expect(await sentEvents(await fetch(`${router.url}/v1/responses/${made.id}?stream=true&starting_after=12`))).toEqual([]);
    // The SDK's helper reads the whole replay and leaves out what it was told to start after.
    const helped: StreamEvent[] = [];
    const helper = client.responses.stream({ response_id: made.id, starting_after: 9 });
    for await (const event of helper) helped.push(event);
    expect(helped).toEqual(replayed.slice(10));
    expect((await helper.finalResponse()).output).toMatchObject(made.output);

    const head = await fetch(`${router.url}/v1/responses/${made.id}?stream=true`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
    expect(await head.text()).toBe('');
    for (const after of ['-1', 'x', '1.5', '']) {
      const refused = await fetch(`${router.url}/v1/responses/${made.id}?stream=true&starting_after=${after}`);
      expect(refused.status, after).toBe(400);
      expect(await refused.json()).toEqual({ error: { message: expect.stringContaining("'starting_after'"), type: 'invalid_request_error', param: 'starting_after', code: 'invalid_value' } });
    }
  });

  it("checks a retrieve's query as OpenAI documents it, as for an engine's response: include values of its enum (accepted, changing nothing), stream a boolean spelled true or false", async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const made = await client.responses.create({ model: 'claude-x', input: 'Query me' });
    await expectRetrieveQueriesRefused(`${router.url}/v1/responses/${made.id}`);
    const whole = (await (await fetch(`${router.url}/v1/responses/${made.id}`)).json()) as Record<string, unknown>;
    expect(await client.responses.retrieve(made.id, { include: ['message.output_text.logprobs', 'reasoning.encrypted_content'], stream: false })).toMatchObject(whole);
    expect(await (await fetch(`${router.url}/v1/responses/${made.id}?include=file_search_call.results&stream=false&include_obfuscation=true`)).json()).toEqual(whole);
    const replayed = await sentEvents(await fetch(`${router.url}/v1/responses/${made.id}?stream=true&include[]=message.output_text.logprobs`));
    expect(replayed.at(-1)).toMatchObject({ type: 'response.completed', response: whole });
  });

  it("continues a kept response through a model group by the group's target answered through the bridge, whatever its weights would pick (the engine's would refuse it)", async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const kept = await client.responses.create({ model: 'claude-x', input: 'Hi' });
    for (let turn = 0; turn < 12; turn++) {
      gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
      const { data, response } = await client.responses.create({ model: 'either', input: `Turn ${turn}`, previous_response_id: kept.id }).withResponse();
      expect(response.headers.get('x-switchyard-target'), `turn ${turn}`).toBe('google');
      expect(data.previous_response_id).toBe(kept.id);
    }
  });

  it('keeps nothing of a response made with "store": false: the Response says so, and neither the calls nor a continuation find it', async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const unstored = await client.responses.create({ model: 'claude-x', input: 'Hi', store: false });
    expect(unstored).toMatchObject({ store: false });
    gemini.reply({ sse: fixture('gemini/stream-text.sse') });
    const unstoredStream = await streamed(client, { model: 'gemini-x', input: 'Hi', store: false, stream: true });
    const before = upstreamRequests();
    for (const { id } of [unstored, unstoredStream]) {
      expect(await outcome(client.responses.retrieve(id))).toBeInstanceOf(OpenAI.NotFoundError);
      const continued = await outcome(client.responses.create({ model: 'claude-x', input: 'More', previous_response_id: id }));
      expect((continued as ApiFailure).status).toBe(404);
      expect((continued as ApiFailure).code).toBe('previous_response_not_found');
    }
    expect(upstreamRequests()).toBe(before);
  });

  it("answers a continuation of a response made elsewhere with a 4xx before any target is called: an engine's with a bridged model, a bridged one with an engine's model, an id nobody knows, an id that is no string", async () => {
    const engine = await client.responses.create({ model: 'm1', input: 'Hi' });
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const bridged = await client.responses.create({ model: 'claude-x', input: 'Hi' });
    const before = upstreamRequests();
    const simBefore = ((await (await fetch(`${sim.url}/sim/stats`)).json()) as { requests: number }).requests;

    const onBridge = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gemini-x', input: 'More', previous_response_id: engine.id, stream: true }) });
    expect(onBridge.status).toBe(400);
    expect(await onBridge.json()).toEqual({ error: { message: expect.stringContaining("with the model that made it"), type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_continuable' } });
    const onEngine = await outcome(client.responses.create({ model: 'm1', input: 'More', previous_response_id: bridged.id }));
    expect(onEngine).toBeInstanceOf(OpenAI.BadRequestError);
    expect((onEngine as ApiFailure).error).toEqual({ message: expect.stringContaining("continue it with model 'claude-x'"), type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_continuable' });
    // An id that is no string (or an empty one) would be taken for none: the conversation would be lost.
    for (const model of ['claude-x', 'm1']) {
      for (const previous of [bridged.id.length, true, '', [bridged.id], { id: bridged.id }]) {
        const malformed = await postJson(`${router.url}/v1/responses`, { model, input: 'More', previous_response_id: previous });
        expect([model, previous, malformed]).toMatchObject([model, previous, { status: 400, body: { error: { message: "Invalid type for 'previous_response_id': expected a non-empty string", type: 'invalid_request_error', param: 'previous_response_id', code: 'invalid_type' } } }]);
      }
      // A store that is no flag would be taken for true: kept against what the client may have meant.
      for (const store of ['no', 0, 'false', {}]) {
        const malformed = await postJson(`${router.url}/v1/responses`, { model, input: 'More', store });
        expect([model, store, malformed]).toMatchObject([model, store, { status: 400, body: { error: { message: "Invalid type for 'store': expected a boolean", type: 'invalid_request_error', param: 'store', code: 'invalid_type' } } }]);
      }
    }
    for (const stream of [false, true]) {
      const unknown = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-x', input: 'More', previous_response_id: 'resp_nobody', stream }) });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: { message: expect.stringContaining("'resp_nobody'"), type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' } });
    }
    expect(upstreamRequests()).toBe(before);
    expect(((await (await fetch(`${sim.url}/sim/stats`)).json()) as { requests: number }).requests).toBe(simBefore);
    // Each still goes on with the model that made it.
    expect((await client.responses.create({ model: 'm1', input: 'More', previous_response_id: engine.id })).status).toBe('completed');
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    expect((await client.responses.create({ model: 'claude-x', input: 'More', previous_response_id: bridged.id })).previous_response_id).toBe(bridged.id);
    // Any bridged model may go on with a kept conversation: Claude's, with Gemini.
    gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.responses.create({ model: 'gemini-x', input: 'Your turn', previous_response_id: bridged.id });
    expect(gemini.last().body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: CLAUDE_TEXT }] },
      { role: 'user', parts: [{ text: 'Your turn' }] },
    ]);
  });

  it('explains a continuation of a response the router keeps (POST /route/explain, switchyard route --previous-response): which model may continue it, and the 404 or 400 the real request would get', async () => {
    const engine = await client.responses.create({ model: 'm1', input: 'Hi' });
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const bridged = await client.responses.create({ model: 'claude-x', input: 'Hi' });
    const before = upstreamRequests();
    const explain = (model: string, previous: string) => postJson(`${router.url}/route/explain`, { model, input: 'More', previous_response_id: previous });

    const onBridge = await explain('gemini-x', bridged.id);
    expect(onBridge.status).toBe(200);
    expect(onBridge.body).toMatchObject({ model: 'gemini-x', target: 'google', previous_response: { id: bridged.id, holder: null, decided: false, kept: true, model: 'claude-x' } });
    const onEngine = await explain('m1', engine.id);
    expect(onEngine.body).toMatchObject({ target: 'engine', reason: 'previous-response', previous_response: { id: engine.id, holder: 'engine', decided: true, kept: false, model: 'm1' } });
    // Refused as the real request is: the same status and error.
    for (const [model, previous] of [
      ['m1', bridged.id],
      ['gemini-x', engine.id],
      ['claude-x', 'resp_nobody'],
    ] as const) {
      const explained = await explain(model, previous);
      const real = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, input: 'More', previous_response_id: previous }) });
      expect(explained.status, `${model} ${previous}`).toBe(real.status);
      expect(explained.status).toBeGreaterThanOrEqual(400);
      expect(explained.body).toEqual(await real.json());
    }
    expect((await explain('m1', bridged.id)).body).toMatchObject({ error: { code: 'previous_response_not_continuable', message: expect.stringContaining("continue it with model 'claude-x'") } });
    // A group: each target with its pick, or the refusal a request sent there would get.
    const group = await explain('either', bridged.id);
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ previous_response: { id: bridged.id, kept: true, model: 'claude-x' } });
    expect((group.body as { chain: Array<{ targets: unknown[] }> }).chain[0]!.targets).toEqual([
      expect.objectContaining({ model: 'gemini-x', target: 'google' }),
      expect.objectContaining({ model: 'm1', error: { status: 400, message: expect.stringContaining("continue it with model 'claude-x'"), code: 'previous_response_not_continuable' } }),
    ]);

    const cli = await runCli(['route', 'gemini-x', '--prompt', 'More', '--previous-response', bridged.id, '--url', router.url]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toContain(`  previous response: ${bridged.id}, kept by the router (made with claude-x): any model answered through its chat bridge continues it`);
    const refused = await runCli(['route', 'm1', '--prompt', 'More', '--previous-response', bridged.id, '--url', router.url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("answered 400: Previous response with id");
    expect(upstreamRequests()).toBe(before);
  });

  // Last: once a key exists, every call needs one.
  it("keeps a response to the API key that made it: another key is told it does not exist, by every call and by a continuation; a key's models are checked against the response's", async () => {
    // Made while the router was open: no key owns it.
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const open = await client.responses.create({ model: 'claude-x', input: 'Open' });
    const createKey = async (name: string, models?: string[]) => (await postJson(`${router.url}/admin/keys`, { name, models }, ADMIN)).body as { key: string };
    const [owner, other, onlyM1, onlyGemini] = await Promise.all([createKey('owner'), createKey('other'), createKey('only-m1', ['m1']), createKey('only-gemini', ['gemini-x'])]);
    const notForM1 = await fetch(`${router.url}/v1/responses/${open.id}`, { headers: { authorization: `Bearer ${onlyM1.key}` } });
    expect(notForM1.status).toBe(403);
    expect(await notForM1.json()).toMatchObject({ error: { code: 'model_not_allowed' } });
    // Nor continued by a key that may not use the model it was made with, through a model it may use: Gemini would be sent Claude's conversation.
    const upstreamBefore = upstreamRequests();
    const continuedByGemini = await postJson(`${router.url}/v1/responses`, { model: 'gemini-x', input: 'Go on', previous_response_id: open.id }, { authorization: `Bearer ${onlyGemini.key}` });
    expect(continuedByGemini).toMatchObject({ status: 403, body: { error: { code: 'model_not_allowed', param: 'model', message: expect.stringContaining("'claude-x'") } } });
    expect(upstreamRequests()).toBe(upstreamBefore);
    expect((await new OpenAI({ baseURL: `${router.url}/v1`, apiKey: other.key, maxRetries: 0 }).responses.retrieve(open.id)).id).toBe(open.id);
    const ownerClient = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: owner.key, maxRetries: 0 });
    const otherClient = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: other.key, maxRetries: 0 });
    gemini.reply({ sse: fixture('gemini/stream-text.sse') });
    const made = await streamed(ownerClient, { model: 'gemini-x', input: 'Mine', stream: true });
    const before = upstreamRequests();

    for (const [method, suffix] of CALLS) {
      const hidden = await fetch(`${router.url}/v1/responses/${made.id}${suffix}`, { method, headers: { authorization: `Bearer ${other.key}` } });
      expect(hidden.status, `${method} ${suffix}`).toBe(404);
      expect(await hidden.json()).toMatchObject({ error: { code: 'response_not_found' } });
    }
    const continued = await outcome(otherClient.responses.create({ model: 'gemini-x', input: 'Yours?', previous_response_id: made.id }));
    expect((continued as ApiFailure).code).toBe('previous_response_not_found');
    // Answered as an id never made is, whatever the model: whether the response exists is not the other key's to learn.
    const continuing = async (id: string, model: string) => {
      const answer = await postJson(`${router.url}/v1/responses`, { model, input: 'Yours?', previous_response_id: id }, { authorization: `Bearer ${other.key}` });
      return { status: answer.status, body: JSON.stringify(answer.body).replaceAll(id, 'ID'), target: answer.headers.get('x-switchyard-target') };
    };
    for (const model of ['gemini-x', 'claude-x', 'no-such-model']) expect(await continuing(made.id, model), model).toEqual(await continuing('resp_never_made', model));
    // Or one too long to be repeated whole: its start, as any id's.
    const long = `resp_${'y'.repeat(12_000)}`;
    const unknownLong = await postJson(`${router.url}/v1/responses`, { model: 'claude-x', input: 'Yours?', previous_response_id: long }, { authorization: `Bearer ${other.key}` });
    expect(unknownLong.body).toMatchObject({ error: { code: 'previous_response_not_found', message: expect.stringContaining(`'${long.slice(0, 64)}…'`) } });
    expect(JSON.stringify(unknownLong.body).length).toBeLessThan(600);
    // Explained to another key as its request is answered: not found; to its owner, kept.
    const explain = (key: string) => postJson(`${router.url}/route/explain`, { model: 'gemini-x', input: 'Yours?', previous_response_id: made.id }, { authorization: `Bearer ${key}` });
    expect(await explain(other.key)).toMatchObject({ status: 404, body: { error: { code: 'previous_response_not_found' } } });
    expect(await explain(owner.key)).toMatchObject({ status: 200, body: { previous_response: { id: made.id, kept: true, model: 'gemini-x' } } });
    expect(upstreamRequests()).toBe(before);
    // The owner still has it (the other key's DELETE deleted nothing).
    expect(await ownerClient.responses.retrieve(made.id)).toMatchObject({ id: made.id, output_text: made.output_text });
    gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
    expect((await ownerClient.responses.create({ model: 'gemini-x', input: 'Go on', previous_response_id: made.id })).output_text).toBe(GEMINI_TEXT);
  });
});

describe('the bounds of the responses the router keeps', () => {
  let anthropic: FakeUpstream;
  afterAll(async () => {
    await stopAll();
    await anthropic?.close();
  });

  /** A router of its own with these bounds, its client, and a maker of Claude responses through it. */
  const boundedRouter = async (bounds: Record<string, number>) => {
    anthropic ??= await FakeUpstream.start();
    const router = await startRouter({ services: [{ name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-x'], api_key: 'sk-ant-test-key' }], bridged_responses: bounds });
    return keptResponsesClient(router.url, anthropic);
  };

  it('defaults to a day and 64 MiB, and refuses bounds that are not positive numbers (bytes: whole) at start-up, naming the key', () => {
    expect(parseConfig({ database_path: ':memory:' }, {}).bridged_responses).toEqual({ ttl_s: 86_400, max_bytes: 64 * 1024 * 1024 });
    for (const [bounds, key] of [
      [{ ttl_s: 0 }, 'bridged_responses.ttl_s'],
      [{ ttl_s: 'a day' }, 'bridged_responses.ttl_s'],
      [{ max_bytes: -1 }, 'bridged_responses.max_bytes'],
      [{ max_bytes: 1.5 }, 'bridged_responses.max_bytes'],
      [{ max_entries: 10 }, 'bridged_responses'],
    ] as const) {
      const parse = () => parseConfig({ database_path: ':memory:', bridged_responses: bounds }, {});
      expect(parse, JSON.stringify(bounds)).toThrow(ConfigError);
      expect(parse, JSON.stringify(bounds)).toThrow(key);
    }
  });

  it('forgets a kept response once bridged_responses.ttl_s has passed', async () => {
    const { client, make, kept } = await boundedRouter({ ttl_s: 1 });
    const made = await make('Hi');
    expect(await kept(made.id)).toBe(true);
    await waitFor(async () => !(await kept(made.id)) || undefined, 'the response to expire');
    const continued = await outcome(client.responses.create({ model: 'claude-x', input: 'More', previous_response_id: made.id }));
    expect((continued as ApiFailure).code).toBe('previous_response_not_found');
  });

  it('drops the oldest first past bridged_responses.max_bytes, and keeps none larger than the bound', async () => {
    const bounded = await boundedRouter({ max_bytes: 8000 });
    const { make, kept } = bounded;
    const tooLarge = await make('x'.repeat(10_000));
    expect(tooLarge).toMatchObject({ store: true });
    expect(await kept(tooLarge.id)).toBe(false);

    const { made, found } = await makeUntilFirstDropped(bounded);
    // What is left is the newest ones, more than one.
    const firstKept = found.indexOf(true);
    expect(firstKept).toBeGreaterThan(0);
    expect(found.slice(firstKept).every(Boolean)).toBe(true);
    expect(made.length - firstKept).toBeGreaterThan(1);
  });
});
