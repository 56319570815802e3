import Anthropic from '@anthropic-ai/sdk';
import { zodOutputFormat } from '@anthropic-ai/sdk/helpers/zod';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { InferenceRequest } from '../src/gateway/inference-request.js';
import { JsonObjectText } from '../src/providers/messages/json-object-text.js';
import { toChatRequest } from '../src/providers/messages/request.js';
import { toMessagesResponse } from '../src/providers/messages/response.js';
import { MessagesStreamTranslator } from '../src/providers/messages/stream.js';
import { validateMessagesBody } from '../src/providers/messages/validate.js';
import { validateInference } from '../src/server/validate.js';
import { postJson } from './support/http.js';
import { startFakeProvider, type FakeProvider, type FakeReply } from './support/fake-provider.js';
import { fixture, FakeUpstream, providerBehindRouter } from './support/fake-upstream.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';
import { loggedRequest } from './support/request-log-rows.js';

/** A chat completion answer of the fake OpenAI-compatible target. */
function completion(message: Record<string, unknown>, finish: string, extra: Record<string, unknown> = {}): FakeReply {
  return {
    status: 200,
    body: JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'chat-model',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish, logprobs: null, ...extra }],
      usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37, prompt_tokens_details: { cached_tokens: 10 } },
    }),
  };
}

const WEATHER_TOOL = { name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

describe('the Anthropic Messages API through the router (a simulated engine, an OpenAI-compatible target)', () => {
  let router: Proc;
  let sim: Proc;
  let chat: FakeProvider;
  let client: Anthropic;
  /** What the OpenAI-compatible target received, last request last. */
  const received: Array<Record<string, unknown>> = [];
  const replies: FakeReply[] = [];

  beforeAll(async () => {
    sim = await startSim({ models: ['m1'], ttftMs: 5 });
    chat = await startFakeProvider(({ body }) => {
      received.push(body);
      return replies.shift() ?? { status: 500, body: '{"error":{"message":"no reply queued"}}' };
    });
    router = await startRouter({
      services: [
        { name: 'sim', url: sim.url },
        { name: 'chat', url: chat.url, models: ['chat-model'] },
      ],
      // Claude Code asks for Claude model names: a group maps one to local targets.
      model_groups: { 'claude-sonnet-4-5': { targets: [{ model: 'chat-model', weight: 1 }], fallbacks: ['m1'] } },
      retry: { max_attempts: 1 },
      request_log: { flush_interval_ms: 100 },
    });
    client = new Anthropic({ baseURL: router.url, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await chat.close();
  });

  it('answers a simulated engine with a Messages API message, logged under the messages route', async () => {
    const message = await client.messages.create({ model: 'm1', max_tokens: 64, system: 'You are terse.', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'm1', stop_reason: 'end_turn', stop_sequence: null });
    // Anthropic's message ids, not the engine's chat completion ids.
    expect(message.id).toMatch(/^msg_[\w-]+$/);
    expect(message.content).toEqual([{ type: 'text', text: expect.stringMatching(/\S/) }]);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    const { data: raw, response } = await client.messages.create({ model: 'm1', max_tokens: 3, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(raw.stop_reason).toBe('max_tokens');
    expect(raw.usage.output_tokens).toBe(3);
    const requestId = response.headers.get('x-request-id')!;
    const row = await loggedRequest(router.url, requestId);
    expect(row).toMatchObject({ route: 'messages', model: 'm1', status: 200, completionTokens: 3 });
    expect(row.promptTokens).toBeGreaterThan(0);
  });

  it('caches a deterministic request (temperature 0) as chat does, keyed apart from chat', async () => {
    const body = { model: 'm1', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: 'cache me' }] };
    const first = await postJson(`${router.url}/v1/messages`, body);
    const second = await postJson(`${router.url}/v1/messages`, body);
    expect([first.headers.get('x-switchyard-cache'), second.headers.get('x-switchyard-cache')]).toEqual(['miss', 'hit']);
    expect(second.body).toEqual(first.body);
    expect(second.body).toMatchObject({ type: 'message' });
    // The same fields as a chat request are another answer, in another API's shape.
    const chat = await postJson(`${router.url}/v1/chat/completions`, body);
    expect(chat.headers.get('x-switchyard-cache')).toBe('miss');
    // A beta flag or API version, which an Anthropic target is given, may change the answer.
    const beta = await postJson(`${router.url}/v1/messages`, body, { 'anthropic-beta': 'some-beta-2026-01-01' });
    expect(beta.headers.get('x-switchyard-cache')).toBe('miss');
    const version = await postJson(`${router.url}/v1/messages`, body, { 'anthropic-version': '2024-05-05' });
    expect(version.headers.get('x-switchyard-cache')).toBe('miss');
  });

  it('translates the system prompt, turns, images, parameters and metadata to a chat request', async () => {
    replies.push(completion({ content: 'Red.' }, 'stop'));
    const message = await client.messages.create({
      model: 'chat-model',
      max_tokens: 50,
      system: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Answer in English.' }],
      // Sampling parameters the SDK's current types dropped, which older clients still send.
      ...({ temperature: 0.3, top_p: 0.9, top_k: 20 } as object),
      metadata: { user_id: 'user-7' },
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Colour?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
      ],
    });
    expect(received.at(-1)).toEqual({
      model: 'chat-model',
      messages: [
        { role: 'system', content: 'Be brief.\n\nAnswer in English.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: [{ type: 'text', text: 'Colour?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      ],
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      top_k: 20,
      user: 'user-7',
    });
    expect(message).toMatchObject({ id: 'msg_1', model: 'chat-model', content: [{ type: 'text', text: 'Red.' }], stop_reason: 'end_turn' });
    // OpenAI counts cached tokens in the prompt; Anthropic apart from the input.
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 });
  });

  it("answers a target's cache writes (cache_write_tokens) as Anthropic's cache_creation_input_tokens, apart from the input", async () => {
    const written = JSON.parse(completion({ content: 'Red.' }, 'stop').body) as { usage: Record<string, unknown> };
    written.usage = { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37, prompt_tokens_details: { cached_tokens: 10, cache_write_tokens: 5 } };
    replies.push({ status: 200, body: JSON.stringify(written) });
    const message = await client.messages.create({ model: 'chat-model', max_tokens: 50, messages: [{ role: 'user', content: 'Colour?' }] });
    expect(message.usage).toMatchObject({ input_tokens: 15, output_tokens: 7, cache_read_input_tokens: 10, cache_creation_input_tokens: 5 });
  });

  it('round-trips a tool use: tools and tool_choice out, tool calls back as tool_use blocks, tool results out as tool messages', async () => {
    replies.push(completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, 'tool_calls'));
    const ask = { role: 'user' as const, content: 'Weather in Paris?' };
    const first = await client.messages.create({
      model: 'chat-model',
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [ask],
    });
    expect(received.at(-1)).toMatchObject({
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: WEATHER_TOOL.input_schema } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);

    replies.push(completion({ content: 'Sunny, 21°C.' }, 'stop'));
    const second = await client.messages.create({
      model: 'chat-model',
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [
        ask,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: 'sunny, 21' }, { type: 'image', source: { type: 'url', url: 'https://example.com/sky.png' } }] },
            { type: 'text', text: 'And now?' },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Forecast: rain later.' } },
          ],
        },
      ],
    });
    expect(received.at(-1)).toMatchObject({
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21' },
        // A tool message holds text only: the result's image goes to the user turn that follows, as does a plain-text document.
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://example.com/sky.png' } },
            { type: 'text', text: 'And now?' },
            { type: 'text', text: 'Forecast: rain later.' },
          ],
        },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Sunny, 21°C.' }]);
  });

  it('sends stop sequences as stop and reports the one the engine stopped at', async () => {
    replies.push(completion({ content: 'One, two' }, 'stop', { stop_reason: 'three' }));
    const message = await client.messages.create({ model: 'chat-model', max_tokens: 20, stop_sequences: ['three', 'END'], messages: [{ role: 'user', content: 'Count' }] });
    expect(received.at(-1)).toMatchObject({ stop: ['three', 'END'] });
    expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
  });

  it('streams a simulated engine as Anthropic events, which the SDK assembles; usage counted in the request log', async () => {
    const stream = client.messages.stream({ model: 'm1', max_tokens: 64, system: 'You are terse.', messages: [{ role: 'user', content: 'Stream to me' }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const message = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(1, 3)).toEqual(['content_block_start', 'content_block_delta']);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(message).toMatchObject({ role: 'assistant', model: 'm1', stop_reason: 'end_turn' });
    expect(message.id).toMatch(/^msg_[\w-]+$/);
    expect(message.content).toEqual([{ type: 'text', text: expect.stringMatching(/\S/) }]);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);

    const { data: events, response } = await client.messages.create({ model: 'm1', max_tokens: 4, stream: true, messages: [{ role: 'user', content: 'Stream to me' }] }).withResponse();
    let text = '';
    let stop: string | null = null;
    for await (const event of events) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') stop = event.delta.stop_reason;
    }
    expect(text).toMatch(/\S/);
    expect(stop).toBe('max_tokens');
    const requestId = response.headers.get('x-request-id')!;
    const row = await loggedRequest(router.url, requestId);
    expect(row).toMatchObject({ route: 'messages', status: 200, completionTokens: 4 });
    expect(row.promptTokens).toBeGreaterThan(0);
  });

  it('streams text and tool calls of an OpenAI-compatible target as text and tool_use blocks, asking it for the usage chunk', async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'chat-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    replies.push({
      status: 200,
      body: '',
      chunks: [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Checking' }),
        chunk({ content: ' now.' }),
        chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"Rome"}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }),
        chunk({}, 'tool_calls'),
        `data: ${JSON.stringify({ id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: 'chat-model', choices: [], usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } })}\n\n`,
        'data: [DONE]\n\n',
      ],
    });
    const message = await client.messages.stream({ model: 'chat-model', max_tokens: 100, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather in Rome and Oslo?' }] }).finalMessage();
    expect(received.at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking now.' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Rome' } },
      { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Oslo' } },
    ]);
    expect(message).toMatchObject({ id: 'msg_2', stop_reason: 'tool_use', usage: { input_tokens: 12, output_tokens: 9 } });
  });

  it("answers an engine's reasoning (reasoning_content, or vLLM's newer reasoning) as a thinking block before the text, whole and streamed, when the client asked for thinking", async () => {
    const ask = { model: 'chat-model', max_tokens: 2000, thinking: { type: 'enabled' as const, budget_tokens: 1024 }, messages: [{ role: 'user' as const, content: 'Why?' }] };
    replies.push(completion({ content: 'Because.', reasoning_content: 'They asked why.' }, 'stop'));
    const whole = await client.messages.create(ask);
    expect(whole.content).toEqual([
      { type: 'thinking', thinking: 'They asked why.', signature: '' },
      { type: 'text', text: 'Because.' },
    ]);
    // Anthropic answers thinking only to a client that asked for it: one that did not reads text first, as before.
    replies.push(completion({ content: 'Because.', reasoning: 'They asked why.' }, 'stop'));
    expect((await client.messages.create({ ...ask, thinking: undefined })).content).toEqual([{ type: 'text', text: 'Because.' }]);

    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-3', object: 'chat.completion.chunk', created: 1, model: 'chat-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    for (const field of ['reasoning_content', 'reasoning']) {
      replies.push({
        status: 200,
        body: '',
        chunks: [chunk({ role: 'assistant', content: '' }), chunk({ [field]: 'They asked' }), chunk({ [field]: ' why.' }), chunk({ content: 'Because.' }), chunk({}, 'stop'), 'data: [DONE]\n\n'],
      });
      const stream = client.messages.stream({ ...ask, thinking: { type: 'adaptive' } });
      const thought: string[] = [];
      stream.on('thinking', (delta) => thought.push(delta));
      const streamed = await stream.finalMessage();
      expect(thought).toEqual(['They asked', ' why.']);
      expect(streamed.content).toEqual([
        { type: 'thinking', thinking: 'They asked why.', signature: '' },
        { type: 'text', text: 'Because.' },
      ]);
    }
  });

  it("asks an OpenAI-compatible target to reason at the reasoning_effort of the client's thinking: LiteLLM's for a budget, the effort of adaptive thinking", async () => {
    const effortFor = async (thinking: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => {
      replies.push(completion({ content: 'Yes.' }, 'stop'));
      const answered = await postJson(`${router.url}/v1/messages`, { model: 'chat-model', max_tokens: 40_000, messages: [{ role: 'user', content: 'Ready?' }], thinking, ...extra });
      expect(answered.status).toBe(200);
      return received.at(-1)!.reasoning_effort;
    };
    const budgets: Array<[number, string]> = [[1024, 'low'], [2047, 'low'], [2048, 'medium'], [4095, 'medium'], [4096, 'high'], [31_999, 'high']];
    for (const [budget, effort] of budgets) expect(await effortFor({ type: 'enabled', budget_tokens: budget }), String(budget)).toBe(effort);
    // Anthropic's levels above high are high: vLLM and OpenAI's o-series refuse any other effort.
    const efforts: Array<[string | undefined, string]> = [['low', 'low'], ['medium', 'medium'], ['high', 'high'], ['xhigh', 'high'], ['max', 'high'], [undefined, 'high']];
    for (const [level, effort] of efforts) expect(await effortFor({ type: 'adaptive' }, { output_config: { effort: level } }), String(level)).toBe(effort);
    expect(await effortFor({ type: 'adaptive', display: 'omitted' })).toBe('high');
    // An effort only adaptive thinking reads; no thinking, or thinking disabled (vLLM refuses 'none'), sends none.
    expect(await effortFor({ type: 'enabled', budget_tokens: 1024 }, { output_config: { effort: 'max' } })).toBe('low');
    expect(await effortFor(undefined, { output_config: { effort: 'high' } })).toBeUndefined();
    expect(await effortFor({ type: 'disabled' })).toBeUndefined();
    expect(received.at(-1)).not.toHaveProperty('reasoning_effort');
    // An effort level the router cannot map is refused before the target is called; Anthropic's own targets judge it themselves.
    const before = received.length;
    const unknown = await postJson(`${router.url}/v1/messages`, { model: 'chat-model', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], thinking: { type: 'adaptive' }, output_config: { effort: 'ultra' } });
    expect(unknown).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/effort 'ultra' is not supported/) } } });
    expect(received.length).toBe(before);
  });

  it("refuses thinking Anthropic would refuse with Anthropic's 400 before routing: a type it lacks, a budget below 1024 or not below max_tokens (unless interleaved)", async () => {
    const ask = (thinking: unknown, headers: Record<string, string> = {}, model = 'no-such-model') =>
      postJson(`${router.url}/v1/messages`, { model, max_tokens: 2048, messages: [{ role: 'user', content: 'Hi' }], thinking }, headers);
    const refused: Array<[unknown, RegExp]> = [
      ['on', /Invalid type for 'thinking'/],
      [{ type: 'extended' }, /thinking\.type/],
      [{}, /thinking\.type/],
      [{ type: 'enabled' }, /budget_tokens/],
      [{ type: 'enabled', budget_tokens: 1023 }, /at least 1024/],
      [{ type: 'enabled', budget_tokens: 1500.5 }, /at least 1024/],
      [{ type: 'enabled', budget_tokens: '2000' }, /at least 1024/],
      [{ type: 'enabled', budget_tokens: 2048 }, /less than 'max_tokens'/],
    ];
    const before = received.length;
    for (const [thinking, message] of refused) {
      for (const model of ['no-such-model', 'chat-model']) {
        expect(await ask(thinking, {}, model), JSON.stringify(thinking)).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(message) } } });
      }
    }
    const counted = await client.messages.countTokens({ model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }], thinking: { type: 'enabled', budget_tokens: 5 } }).catch((e: unknown) => e);
    expect(counted).toBeInstanceOf(Anthropic.BadRequestError);
    const badConfig = await postJson(`${router.url}/v1/messages`, { model: 'no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], output_config: { effort: 3 } });
    expect(badConfig).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/output_config\.effort/) } } });
    expect(received.length).toBe(before);
    // With interleaved thinking the budget is the whole turn's, and may exceed max_tokens (Claude Code asks so).
    const interleaved = { 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14' };
    expect(await ask({ type: 'enabled', budget_tokens: 31_999 }, interleaved)).toMatchObject({ status: 404 });
    expect((await ask({ type: 'enabled', budget_tokens: 2048 }, { 'anthropic-beta': 'not-interleaved-thinking-2025-05-14' })).status).toBe(400);
  });

  it("answers a structured output from a simulated engine as a text block of JSON that fits the schema, whole and streamed, in the current form and the beta's", async () => {
    const city = z.object({ name: z.string(), population: z.number().int(), coastal: z.boolean(), districts: z.array(z.object({ name: z.string() })), kind: z.enum(['capital', 'town']) });
    const ask = { model: 'm1', max_tokens: 1024, messages: [{ role: 'user' as const, content: 'Describe Lisbon.' }], output_config: { format: zodOutputFormat(city) } };
    // The SDK's parse checks the answer's text against the schema (zod), as it does Anthropic's.
    const whole = await client.messages.parse(ask);
    expect(whole.content).toEqual([{ type: 'text', text: expect.any(String) }]);
    expect(whole.parsed_output).toEqual(city.parse(JSON.parse((whole.content[0] as Anthropic.TextBlock).text)));
    const streamed = await client.messages.stream(ask).finalMessage();
    expect(streamed.content).toHaveLength(1);
    expect(city.parse(streamed.parsed_output)).toEqual(streamed.parsed_output);

    const schema = { type: 'object', properties: { answer: { type: 'string' }, confidence: { type: 'number' } }, required: ['answer', 'confidence'], additionalProperties: false };
    const beta = await client.beta.messages.create({ model: 'm1', max_tokens: 1024, betas: ['structured-outputs-2025-11-13'], messages: [{ role: 'user', content: 'Sure?' }], output_format: { type: 'json_schema', schema } });
    expect(JSON.parse((beta.content[0] as Anthropic.Beta.BetaTextBlock).text)).toEqual({ answer: expect.any(String), confidence: expect.any(Number) });
  });

  it("sends a structured output to an OpenAI-compatible target as a strict response_format, beside the effort of adaptive thinking; the beta's output_format first when both come", async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const other = { type: 'object', properties: { other: { type: 'string' } }, required: ['other'], additionalProperties: false };
    const formatFor = async (fields: Record<string, unknown>) => {
      replies.push(completion({ content: '{"answer":"yes"}' }, 'stop'));
      const answered = await postJson(`${router.url}/v1/messages`, { model: 'chat-model', max_tokens: 64, messages: [{ role: 'user', content: 'Ready?' }], ...fields });
      expect(answered).toMatchObject({ status: 200, body: { content: [{ type: 'text', text: '{"answer":"yes"}' }] } });
      return received.at(-1)!;
    };
    const responseFormat = (of: unknown) => ({ type: 'json_schema', json_schema: { name: 'structured_output', schema: of, strict: true } });
    expect((await formatFor({ output_config: { format: { type: 'json_schema', schema } } })).response_format).toEqual(responseFormat(schema));
    expect((await formatFor({ output_format: { type: 'json_schema', schema } })).response_format).toEqual(responseFormat(schema));
    expect((await formatFor({ output_format: { type: 'json_schema', schema }, output_config: { format: { type: 'json_schema', schema: other } } })).response_format).toEqual(responseFormat(schema));
    expect(await formatFor({ thinking: { type: 'adaptive' }, output_config: { effort: 'low', format: { type: 'json_schema', schema } } })).toMatchObject({ reasoning_effort: 'low', response_format: responseFormat(schema) });
    expect(await formatFor({ output_config: { effort: 'low', format: null } })).not.toHaveProperty('response_format');
  });

  it("sends a schema OpenAI's strict mode would refuse (an optional property, as Anthropic's zod helper writes it) as not strict, unchanged, and the SDK parses the answer", async () => {
    const city = z.object({ name: z.string(), districts: z.array(z.object({ name: z.string(), mayor: z.string().optional() })), nickname: z.string().optional() });
    const format = zodOutputFormat(city);
    replies.push(completion({ content: '{"name":"Lisbon","districts":[{"name":"Belém"}]}' }, 'stop'));
    const parsed = await client.messages.parse({ model: 'chat-model', max_tokens: 64, messages: [{ role: 'user', content: 'Describe Lisbon.' }], output_config: { format } });
    expect(parsed.parsed_output).toEqual({ name: 'Lisbon', districts: [{ name: 'Belém' }] });
    expect(received.at(-1)!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'structured_output', schema: format.schema, strict: false } });

    // all required, every object closed: strict, as Anthropic's decoding is
    const strictCity = z.object({ name: z.string(), districts: z.array(z.object({ name: z.string() })), nickname: z.string().nullable() });
    replies.push(completion({ content: '{"name":"Lisbon","districts":[],"nickname":null}' }, 'stop'));
    await client.messages.parse({ model: 'chat-model', max_tokens: 64, messages: [{ role: 'user', content: 'Describe Lisbon.' }], output_config: { format: zodOutputFormat(strictCity) } });
    expect(received.at(-1)!.response_format).toMatchObject({ json_schema: { strict: true } });
  });

  it("sends a strict tool to an OpenAI-compatible target as a strict function when OpenAI's strict mode takes its schema, otherwise not strict; a tool not asked strict goes without it", async () => {
    const closed = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const open = { type: 'object', properties: { city: { type: 'string' }, country: { type: 'string' } }, required: ['city'] };
    replies.push(completion({ content: 'Done.' }, 'stop'));
    const tools = [
      { name: 'closed', input_schema: closed, strict: true },
      { name: 'open', input_schema: open, strict: true },
      { name: 'plain', input_schema: closed },
    ];
    const answered = await postJson(`${router.url}/v1/messages`, { model: 'chat-model', max_tokens: 64, messages: [{ role: 'user', content: 'Weather?' }], tools });
    expect(answered.status).toBe(200);
    expect(received.at(-1)!.tools).toEqual([
      { type: 'function', function: { name: 'closed', parameters: closed, strict: true } },
      { type: 'function', function: { name: 'open', parameters: open, strict: false } },
      { type: 'function', function: { name: 'plain', parameters: closed } },
    ]);
  });

  it('reads a schema whose union holds more schemas than a function call takes arguments (300,000 variants), as any other', async () => {
    const wide = { type: 'object', properties: { pick: { anyOf: Array.from({ length: 300_000 }, (_, at) => ({ const: at })) } }, required: ['pick'], additionalProperties: false };
    replies.push(completion({ content: '{"pick":1}' }, 'stop'));
    const answered = await postJson(`${router.url}/v1/messages`, { model: 'chat-model', max_tokens: 64, messages: [{ role: 'user', content: 'Pick.' }], output_config: { format: { type: 'json_schema', schema: wide } } });
    expect(answered.status).toBe(200);
    expect(received.at(-1)!.response_format).toMatchObject({ json_schema: { strict: true } });
  });

  it('checks a schema of 300,000 properties, every one required, for strict mode in one pass over them (searching required for each name held the router for most of a minute)', async () => {
    const properties = Object.fromEntries(Array.from({ length: 300_000 }, (_, at) => [`p${at}`, { type: 'string' }]));
    const schema = { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
    replies.push(completion({ content: 'Done.' }, 'stop'));
    const answered = await postJson(`${router.url}/v1/messages`, { model: 'chat-model', max_tokens: 64, messages: [{ role: 'user', content: 'Fill.' }], tools: [{ name: 'fill', input_schema: schema, strict: true }] });
    expect(answered.status).toBe(200);
    expect(received.at(-1)!.tools).toMatchObject([{ function: { name: 'fill', strict: true } }]);
  });

  it("refuses a structured output format Anthropic would refuse with Anthropic's 400 before routing: not an object, another type than json_schema, a schema that is not an object", async () => {
    const refused: Array<[Record<string, unknown>, RegExp]> = [];
    for (const [field, wrap] of [['output_config.format', (format: unknown) => ({ output_config: { format } })], ['output_format', (format: unknown) => ({ output_format: format })]] as const) {
      refused.push(
        [wrap('json'), new RegExp(`Invalid type for '${field}': expected an object`)],
        [wrap([]), new RegExp(`Invalid type for '${field}'`)],
        [wrap({ type: 'json_object' }), new RegExp(`'${field}.type': expected 'json_schema', got 'json_object'`)],
        [wrap({ schema: { type: 'object' } }), new RegExp(`'${field}.type'`)],
        [wrap({ type: 'json_schema' }), new RegExp(`'${field}.schema': expected a JSON Schema object`)],
        [wrap({ type: 'json_schema', schema: null }), new RegExp(`'${field}.schema'`)],
        [wrap({ type: 'json_schema', schema: [{ type: 'object' }] }), new RegExp(`'${field}.schema'`)],
      );
    }
    const before = received.length;
    for (const [fields, message] of refused) {
      for (const model of ['no-such-model', 'chat-model', 'm1']) {
        const answered = await postJson(`${router.url}/v1/messages`, { model, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }], ...fields });
        expect(answered, JSON.stringify(fields)).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(message) } } });
      }
    }
    const counted = await postJson(`${router.url}/v1/messages/count_tokens`, { model: 'chat-model', messages: [{ role: 'user', content: 'Hi' }], output_format: { type: 'json_schema' } });
    expect(counted).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
    expect(received.length).toBe(before);
  });

  it("ends a stream that breaks off, or reports an error, with Anthropic's error event, which the SDK raises", async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'chat-model', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    const ask = { model: 'chat-model', max_tokens: 10, messages: [{ role: 'user' as const, content: 'Hi' }] };
    replies.push({ status: 200, body: '', chunks: [chunk('Half an ans')] });
    await expect(client.messages.stream(ask).finalMessage()).rejects.toThrow(/ended the stream before message_stop/);
    replies.push({ status: 200, body: '', chunks: [chunk('Hm'), `data: ${JSON.stringify({ error: { message: 'engine overloaded mid-way', type: 'server_error' } })}\n\n`] });
    await expect(client.messages.stream(ask).finalMessage()).rejects.toThrow(/engine overloaded mid-way/);
  });

  it("answers errors in Anthropic's shape, which the SDK raises as its own error classes", async () => {
    const unknown = await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as InstanceType<typeof Anthropic.NotFoundError>).error).toEqual({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('no-such-model') } });

    const invalid = await client.messages.create({ model: 'm1', max_tokens: 10, messages: 'Hi' as never }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    const missing = await postJson(`${router.url}/v1/messages`, { model: 'm1', messages: [{ role: 'user', content: 'Hi' }] });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: "Missing required parameter: 'max_tokens'" } });
    const empty = await client.messages.create({ model: 'm1', max_tokens: 10, messages: [] }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(Anthropic.BadRequestError);
    expect((empty as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: "Invalid 'messages': at least one message is required" } });
    const notJson = await fetch(`${router.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { type: string }).type).toBe('error');

    // Calls the router does not serve under /v1/messages (the batches API, another method, a path that is not valid percent-encoding) are refused in Anthropic's shape too.
    const batches = await client.messages.batches.create({ requests: [] }).catch((e: unknown) => e);
    expect(batches).toBeInstanceOf(Anthropic.NotFoundError);
    expect((batches as InstanceType<typeof Anthropic.NotFoundError>).error).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'Unknown route: POST /v1/messages/batches' } });
    for (const [path, status, type] of [['/v1/messages', 404, 'not_found_error'], ['/v1/messages/%zz', 400, 'invalid_request_error']] as const) {
      const answer = await fetch(`${router.url}${path}`);
      expect(answer.status).toBe(status);
      expect(await answer.json()).toEqual({ type: 'error', error: { type, message: expect.any(String) } });
    }

    // A block the chat translation cannot carry is the client's error, answered before any upstream call.
    const before = received.length;
    const unsupported = await client.messages
      .create({ model: 'chat-model', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }] }] })
      .catch((e: unknown) => e);
    expect(unsupported).toBeInstanceOf(Anthropic.BadRequestError);
    expect((unsupported as Error).message).toMatch(/document/);
    expect(received.length).toBe(before);

    // The target's own error answer, translated to Anthropic's shape with its status.
    replies.push({ status: 429, body: JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }) });
    const limited = await client.messages.create({ model: 'chat-model', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
  });

  it("refuses a malformed body with Anthropic's 400 before routing, whatever its model (unknown or without a healthy target) or route", async () => {
    const malformed: Array<[unknown, RegExp]> = [
      [[{ type: 'tool_result', content: 'sunny' }], /tool_use_id/],
      [[{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }], /content\[0\]\.source\.data/],
      [[{ type: 'text' }], /content\[0\]\.text/],
      [[null], /content block object/],
      [[{ text: 'no type' }], /string 'type'/],
    ];
    const before = received.length;
    for (const [content, message] of malformed) {
      for (const model of ['no-such-model', 'chat-model']) {
        const refused = await client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: content as never }] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
        expect((refused as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(message) } });
      }
      const counted = await client.messages.countTokens({ model: 'no-such-model', messages: [{ role: 'user', content: content as never }] }).catch((e: unknown) => e);
      expect(counted).toBeInstanceOf(Anthropic.BadRequestError);
    }
    const badRole = await postJson(`${router.url}/v1/messages`, { model: 'no-such-model', max_tokens: 5, messages: [{ role: 'system', content: 'Hi' }] });
    expect(badRole).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/role/) } } });
    const badTool = await postJson(`${router.url}/v1/messages`, { model: 'no-such-model', max_tokens: 5, tools: [{ name: 'f', input_schema: null }], messages: [{ role: 'user', content: 'Hi' }] });
    expect(badTool).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/input_schema/) } } });
    expect(received.length).toBe(before);
  });

  it('lets a content block type it does not know through to routing: an unknown model is 404, a translated target refuses it with 400', async () => {
    const before = received.length;
    const video = [{ type: 'video', url: 'x' }] as never;
    const unknown = await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: video }] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    const translated = await client.messages.create({ model: 'chat-model', max_tokens: 10, messages: [{ role: 'user', content: video }] }).catch((e: unknown) => e);
    expect(translated).toBeInstanceOf(Anthropic.BadRequestError);
    expect((translated as Error).message).toMatch(/content block type 'video' is not supported/);
    expect(received.length).toBe(before);
  });

  it('estimates a token count at about 4 bytes a token, without calling any target', async () => {
    const before = received.length;
    const params = { model: 'chat-model', system: 'You are terse.', tools: [WEATHER_TOOL], messages: [{ role: 'user' as const, content: 'x'.repeat(4000) }] };
    const { input_tokens: tokens } = await client.messages.countTokens(params);
    const bytes = JSON.stringify({ system: params.system, messages: params.messages, tools: params.tools }).length;
    expect(tokens).toBe(Math.ceil(bytes / 4));
    expect(received.length).toBe(before);
    const unknown = await client.messages.countTokens({ ...params, model: 'no-such-model' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const invalid = await postJson(`${router.url}/v1/messages/count_tokens`, { model: 'm1' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: "Missing required parameter: 'messages'" } });
    // `tools: null` is no tools, as on the Messages route itself.
    const nullTools = await postJson(`${router.url}/v1/messages/count_tokens`, { model: 'chat-model', tools: null, messages: [{ role: 'user', content: 'Hi' }] });
    expect(nullTools.status).toBe(200);
    const notJson = await postJson(`${router.url}/v1/messages/count_tokens`, '{"model":');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it("counts a structured output's schema, current or beta, as it counts the tools' schemas", async () => {
    const params = { model: 'chat-model', messages: [{ role: 'user' as const, content: 'The largest city of France?' }] };
    const schema = { type: 'object', properties: { city: { type: 'string', description: 'x'.repeat(400) }, population: { type: 'integer' } }, required: ['city', 'population'], additionalProperties: false };
    const count = async (extra: Record<string, unknown>) => ((await postJson(`${router.url}/v1/messages/count_tokens`, { ...params, ...extra })).body as { input_tokens: number }).input_tokens;
    const without = await count({});
    const schemaTokens = Math.floor(JSON.stringify(schema).length / 4);
    const current = await count({ output_config: { format: { type: 'json_schema', schema } } });
    expect(current - without).toBeGreaterThanOrEqual(schemaTokens);
    expect(await count({ output_format: { type: 'json_schema', schema } })).toBe(current);
    const tools = await count({ tools: [{ name: 'answer', input_schema: schema }] });
    expect(tools - without).toBeGreaterThanOrEqual(schemaTokens);
  });

  it("falls back along a model group's chain when its target fails, answering as the model asked for", async () => {
    replies.push({ status: 500, body: JSON.stringify({ error: { message: 'engine crashed' } }) });
    const { data: message, response } = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(received.at(-1)).toMatchObject({ model: 'chat-model' });
    expect(response.headers.get('x-switchyard-target')).toBe('sim');
    expect(message).toMatchObject({ type: 'message', model: 'claude-sonnet-4-5', content: [{ type: 'text' }] });
  });
});

describe('the Messages API route with API keys required', () => {
  let router: Proc;
  let sim: Proc;

  beforeAll(async () => {
    sim = await startSim({ models: ['m1'], ttftMs: 5 });
    router = await startRouter({ services: [{ name: 'sim', url: sim.url }] }, { ADMIN_TOKEN: 'admin-secret' });
  });
  afterAll(stopAll);

  it('takes the key from x-api-key, as the Anthropic SDK sends it, or from Authorization: Bearer', async () => {
    const created = await postJson(`${router.url}/admin/keys`, { name: 'claude-code' }, { authorization: 'Bearer admin-secret' });
    const key = (created.body as { key: string }).key;
    const ask = { model: 'm1', max_tokens: 5, messages: [{ role: 'user' as const, content: 'Hi' }] };
    // Claude Code and the SDK's earlier versions send `x-api-key`; its current versions `Authorization: Bearer`.
    expect((await new Anthropic({ baseURL: router.url, apiKey: null, defaultHeaders: { 'x-api-key': key }, maxRetries: 0 }).messages.create(ask)).type).toBe('message');
    expect((await new Anthropic({ baseURL: router.url, apiKey: key, maxRetries: 0 }).messages.create(ask)).type).toBe('message');
    const wrong = await new Anthropic({ baseURL: router.url, apiKey: 'sk-wrong', maxRetries: 0 }).messages.create(ask).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    // The refusal names both headers the route reads.
    expect((wrong as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('"x-api-key: <key>" or "Authorization: Bearer <key>"') } });
    const count = { model: 'm1', messages: ask.messages };
    expect((await new Anthropic({ baseURL: router.url, apiKey: null, defaultHeaders: { 'x-api-key': key }, maxRetries: 0 }).messages.countTokens(count)).input_tokens).toBeGreaterThan(0);
    await expect(new Anthropic({ baseURL: router.url, apiKey: 'sk-wrong', maxRetries: 0 }).messages.countTokens(count)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    // Only the Messages API reads x-api-key: the OpenAI routes keep to Authorization.
    const chat = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages: [{ role: 'user', content: 'Hi' }] }, { 'x-api-key': key });
    expect(chat.status).toBe(401);
    expect(chat.body.error.message).toBe('Incorrect API key provided. Send a valid key as "Authorization: Bearer <key>".');
  });
});

describe('the Messages API route to an Anthropic target (a fake Messages API behind the router)', () => {
  let fake: FakeUpstream;
  let router: Proc;
  let client: Anthropic;
  const ask = { model: 'claude-x', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Weather in SF?' }] };

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    router = await startRouter({
      services: [{ name: 'claude', provider: 'anthropic', models: ['claude-x'], api_key: 'sk-ant-test-key', url: fake.url }],
      retry: { max_attempts: 1 },
      cooldown: { failure_threshold: 100 },
      request_log: { flush_interval_ms: 100 },
    });
    client = new Anthropic({ baseURL: router.url, apiKey: 'client-key', maxRetries: 0, defaultHeaders: { 'anthropic-version': '2024-05-05', 'anthropic-beta': 'some-beta-2026-01-01' } });
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it("passes the body through byte for byte with the target's key, and relays the answer as Anthropic gave it", async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    // Fields no chat translation carries (thinking, cache_control, document blocks, server tools) reach Anthropic untouched.
    const params = {
      ...ask,
      max_tokens: 2048,
      system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      messages: [{ role: 'user' as const, content: [{ type: 'document' as const, source: { type: 'text' as const, media_type: 'text/plain' as const, data: 'A memo.' } }, { type: 'text' as const, text: 'Sum it up.' }] }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const }],
    };
    const { data: message, response } = await client.messages.create(params).withResponse();
    const sent = fake.last();
    expect(sent.url).toBe('/v1/messages');
    expect(sent.body).toEqual(params);
    expect(sent.headers['x-api-key']).toBe('sk-ant-test-key');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['anthropic-version']).toBe('2024-05-05');
    expect(sent.headers['anthropic-beta']).toBe('some-beta-2026-01-01');
    expect(message).toEqual(JSON.parse(fixture('anthropic/message-text.json')));
    expect(response.headers.get('x-switchyard-target')).toBe('claude');
    const requestId = response.headers.get('x-request-id')!;
    const row = await loggedRequest(router.url, requestId);
    expect(row).toMatchObject({ route: 'messages', model: 'claude-x', status: 200, promptTokens: message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0) + (message.usage.cache_creation_input_tokens ?? 0), completionTokens: message.usage.output_tokens });
  });

  it("relays Anthropic's stream error events without the router's key, whole or masked, as it does its error answers", async () => {
    const head = fixture('anthropic/stream-overloaded.sse').split('event: error')[0]!;
    const error = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'key sk-ant-test-key (sk-ant-…-key) was refused' } })}\n\n`;
    fake.reply({ sse: head + error });
    const raw = await fetch(`${router.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ask, stream: true }) });
    const relayed = await raw.text();
    expect(relayed.startsWith(head)).toBe(true);
    expect(relayed).not.toContain('test-key');
    expect(relayed).toContain('key [redacted] ([redacted]) was refused');
    fake.reply({ sse: head + error });
    await expect(client.messages.stream(ask).finalMessage()).rejects.toThrow(/key \[redacted\] \(\[redacted\]\) was refused/);
  });

  it("drops the unsigned thinking blocks the router's translation gave an engine's reasoning (Anthropic refuses them), and only those", async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') }, { status: 200, json: fixture('anthropic/message-text.json') });
    const turn = (signature: string) => ({ role: 'assistant', content: [{ type: 'thinking', thinking: 'Hmm.', signature }, { type: 'text', text: 'Hello.' }] });
    const conversation = (signature: string) => ({ ...ask, messages: [{ role: 'user', content: 'Hi' }, turn(signature), { role: 'user', content: 'And?' }] });
    expect((await postJson(`${router.url}/v1/messages`, conversation(''))).status).toBe(200);
    expect(fake.last().body).toEqual({ ...conversation(''), messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] }, { role: 'user', content: 'And?' }] });
    // a signed block is Anthropic's own: the body goes as sent
    const signed = JSON.stringify(conversation('EqQBCkYIARgCKkA'));
    await fetch(`${router.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: signed });
    expect(fake.last().raw).toBe(signed);
  });

  it('passes content block types and tools the router does not know (betas) to Anthropic as sent', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const beta = {
      ...ask,
      messages: [{ role: 'user', content: [{ type: 'video_2027', source: { type: 'stream', id: 'v1' } }, { type: 'text', text: 'What happens?' }] }],
      tools: [{ type: 'mcp_toolset', mcp_server_name: 'files' }],
    };
    const { status } = await postJson(`${router.url}/v1/messages`, beta);
    expect(status).toBe(200);
    expect(fake.last().body).toEqual(beta);
  });

  it("refuses thinking Anthropic would refuse before calling it, and passes on a budget above max_tokens under the interleaved-thinking beta, which Anthropic takes", async () => {
    const before = fake.received.length;
    for (const thinking of [{ type: 'enabled', budget_tokens: 500 }, { type: 'enabled', budget_tokens: 64 }, { type: 'sometimes' }]) {
      const refused = await postJson(`${router.url}/v1/messages`, { ...ask, thinking });
      expect(refused, JSON.stringify(thinking)).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
    }
    expect(fake.received.length).toBe(before);
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const interleaved = { ...ask, thinking: { type: 'enabled', budget_tokens: 10_000 } };
    expect((await postJson(`${router.url}/v1/messages`, interleaved, { 'anthropic-beta': 'interleaved-thinking-2025-05-14' })).status).toBe(200);
    expect(fake.last()).toMatchObject({ body: interleaved, headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } });
  });

  it('passes a structured output on as sent, the beta form with its header, and refuses a malformed format before calling Anthropic', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    // Spaced and ordered as no re-serialisation would write it: the raw bytes tell a body passed on as sent.
    const current = `{"model": "claude-x", "max_tokens": 64, "output_config": {"format": {"schema": ${JSON.stringify(schema)}, "type": "json_schema"}, "effort": "low"}, "messages": [{"role": "user", "content": "Sure?"}]}`;
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    expect((await fetch(`${router.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: current })).status).toBe(200);
    expect(fake.last().raw).toBe(current);
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const beta = { ...ask, output_format: { type: 'json_schema', schema } };
    expect((await postJson(`${router.url}/v1/messages`, beta, { 'anthropic-beta': 'structured-outputs-2025-11-13' })).status).toBe(200);
    expect(fake.last()).toMatchObject({ body: beta, headers: { 'anthropic-beta': 'structured-outputs-2025-11-13' } });
    const before = fake.received.length;
    for (const fields of [{ output_config: { format: { type: 'json_schema', schema: 'object' } } }, { output_format: { type: 'text' } }]) {
      const refused = await postJson(`${router.url}/v1/messages`, { ...ask, ...fields });
      expect(refused, JSON.stringify(fields)).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
    }
    expect(fake.received.length).toBe(before);
  });

  it("relays Anthropic's stream as it came, and its errors, whole or mid-stream, as the SDK's own", async () => {
    fake.reply({ sse: fixture('anthropic/stream-tool-use.sse') });
    const raw = await fetch(`${router.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...ask, stream: true }) });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await raw.text()).toBe(fixture('anthropic/stream-tool-use.sse'));
    // Input tokens from message_start (read as the 7-byte pieces pass), output tokens from the last message_delta.
    const requestId = raw.headers.get('x-request-id')!;
    const row = await loggedRequest(router.url, requestId);
    expect(row).toMatchObject({ route: 'messages', status: 200, promptTokens: 472, completionTokens: 89 });
    fake.reply({ sse: fixture('anthropic/stream-tool-use.sse') });
    const message = await client.messages.stream(ask).finalMessage();
    expect(fake.last().body).toEqual({ ...ask, stream: true });
    expect(message).toMatchObject({ stop_reason: 'tool_use', content: [{ type: 'text' }, { type: 'tool_use', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } }] });

    fake.reply({ status: 429, json: fixture('anthropic/error-rate-limit.json') });
    const limited = await client.messages.create(ask).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).error).toEqual(JSON.parse(fixture('anthropic/error-rate-limit.json')));
    fake.reply({ sse: fixture('anthropic/stream-overloaded.sse') });
    await expect(client.messages.stream(ask).finalMessage()).rejects.toThrow(/Overloaded/);
  });
});

describe('the Messages API route to a Gemini target (through its chat translation)', () => {
  let fake: FakeUpstream;
  let client: Anthropic;

  beforeAll(async () => {
    let router: Proc;
    ({ fake, router } = await providerBehindRouter(
      { name: 'google', provider: 'gemini', models: ['gemini-x'], api_key: 'goog-test-key' },
      { retry: { max_attempts: 1 }, cooldown: { failure_threshold: 100 } },
    ));
    client = new Anthropic({ baseURL: router.url, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it('answers whole and streamed, text and tool use', async () => {
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    const message = await client.messages.create({ model: 'gemini-x', max_tokens: 64, system: 'Explain simply.', messages: [{ role: 'user', content: 'What is AI?' }] });
    expect(fake.last().body).toMatchObject({ systemInstruction: { parts: [{ text: 'Explain simply.' }] }, contents: [{ role: 'user', parts: [{ text: 'What is AI?' }] }] });
    expect(message).toMatchObject({ content: [{ type: 'text', text: 'AI learns patterns from data to make predictions.' }], stop_reason: 'end_turn' });
    expect(message.usage.cache_read_input_tokens).toBe(6);

    fake.reply({ sse: fixture('gemini/stream-function-call.sse'), chunkBytes: 9 });
    const streamed = await client.messages.stream({ model: 'gemini-x', max_tokens: 64, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(fake.last().url).toBe('/v1beta/models/gemini-x:streamGenerateContent?alt=sse');
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { location: 'Paris' } }]);
  });

  it("asks Gemini to think for the client's thinking (as a reasoning_effort), and answers its thoughts as thinking blocks, whole and streamed", async () => {
    const ask = { model: 'gemini-x', max_tokens: 10_000, messages: [{ role: 'user' as const, content: 'Is 97 prime?' }] };
    fake.reply({ status: 200, json: fixture('gemini/response-thoughts.json') });
    const whole = await client.messages.create({ ...ask, thinking: { type: 'enabled', budget_tokens: 3000 } });
    // 3000 is LiteLLM's medium, which Gemini 2.5 thinks at with Google's medium budget
    expect(fake.last().body.generationConfig).toEqual({ maxOutputTokens: 10_000, thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } });
    expect(whole.content).toEqual([
      { type: 'thinking', thinking: '**Weighing the options**\n\nA prime test by trial division up to the square root is enough here.', signature: '' },
      { type: 'text', text: '97 is prime.' },
    ]);

    fake.reply({ sse: fixture('gemini/stream-thoughts.sse'), chunkBytes: 8 });
    const stream = client.messages.stream({ ...ask, thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    const thought: string[] = [];
    stream.on('thinking', (delta) => thought.push(delta));
    const streamed = await stream.finalMessage();
    expect(fake.last().body.generationConfig).toEqual({ maxOutputTokens: 10_000, thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    expect(thought.join('')).toBe('**Checking divisors**\n\nNone of 2, 3, 5, 7 divides 97.');
    expect(streamed.content).toEqual([
      { type: 'thinking', thinking: '**Checking divisors**\n\nNone of 2, 3, 5, 7 divides 97.', signature: '' },
      { type: 'text', text: '97 is prime.' },
    ]);

    // Thinking disabled is Gemini's least thinking (none at all before Gemini 3), no thoughts asked for.
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.messages.create({ ...ask, thinking: { type: 'disabled' } });
    expect(fake.last().body.generationConfig).toEqual({ maxOutputTokens: 10_000, thinkingConfig: { thinkingBudget: 0 } });
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.messages.create(ask);
    expect(fake.last().body.generationConfig).toEqual({ maxOutputTokens: 10_000 });
  });

  it("asks Gemini for JSON of the structured output's schema (responseJsonSchema), in either form", async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, sure: { type: 'boolean' } }, required: ['answer', 'sure'], additionalProperties: false };
    const ask = { model: 'gemini-x', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Sure?' }] };
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.messages.create({ ...ask, output_config: { format: { type: 'json_schema', schema } } });
    expect(fake.last().body.generationConfig).toEqual({ maxOutputTokens: 64, responseMimeType: 'application/json', responseJsonSchema: schema });
    fake.reply({ sse: fixture('gemini/stream-thoughts.sse'), chunkBytes: 8 });
    await client.beta.messages.stream({ ...ask, betas: ['structured-outputs-2025-11-13'], output_format: { type: 'json_schema', schema } }).finalMessage();
    expect(fake.last().body.generationConfig).toEqual({ maxOutputTokens: 64, responseMimeType: 'application/json', responseJsonSchema: schema });
  });
});

describe('translating chat chunks to Messages events (engines that stream tool calls unusually)', () => {
  const context = { apiKey: undefined, maxEventBytes: 1 << 20, upstreamModel: 'm' };
  const request = { model: 'm', body: {} } as InferenceRequest;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    Buffer.from(`data: ${JSON.stringify({ id: 'c', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
  /** Each Messages event written, as `type` or `type:index`. */
  const events = (out: string) =>
    out
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; index?: number })
      .map((event) => (event.index === undefined ? event.type : `${event.type}:${event.index}`));

  it('keeps one tool-use block per call when an engine repeats the id in every piece or leaves the index out, and text after it a block of its own', () => {
    const translator = new MessagesStreamTranslator(request, undefined, context);
    let out = '';
    out += translator.push(chunk({ tool_calls: [{ id: 'call_1', function: { name: 'f', arguments: '{"a"' } }] }));
    out += translator.push(chunk({ tool_calls: [{ id: 'call_1', function: { arguments: ':1}' } }] }));
    out += translator.push(chunk({ tool_calls: [{ id: 'call_2', function: { name: 'g', arguments: '{}' } }] }));
    out += translator.push(chunk({ content: 'done' }, 'tool_calls'));
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    expect(events(out)).toEqual([
      'message_start',
      'content_block_start:0', 'content_block_delta:0', 'content_block_delta:0', 'content_block_stop:0',
      'content_block_start:1', 'content_block_delta:1', 'content_block_stop:1',
      'content_block_start:2', 'content_block_delta:2', 'content_block_stop:2',
      'message_delta', 'message_stop',
    ]);
    expect(out).toContain('"stop_reason":"tool_use"');
  });

  /**
   * The content blocks of a Messages stream, checked to be Anthropic's sequence: each block started
   * at the next index, given deltas and stopped before the next starts.
   */
  function assembled(out: string): Array<Record<string, unknown>> {
    const blocks: Array<Record<string, unknown> & { json?: string }> = [];
    let open: number | undefined;
    for (const line of out.split('\n').filter((l) => l.startsWith('data: '))) {
      const event = JSON.parse(line.slice(6)) as { type: string; index?: number; content_block?: Record<string, unknown>; delta?: Record<string, string> };
      if (event.type === 'content_block_start') {
        expect([open, event.index]).toEqual([undefined, blocks.length]);
        open = event.index;
        blocks.push({ ...event.content_block });
      } else if (event.type === 'content_block_delta') {
        expect(event.index).toBe(open);
        const block = blocks[open!]!;
        if (event.delta!.type === 'text_delta') block.text += event.delta!.text!;
        else block.json = (block.json ?? '') + event.delta!.partial_json!;
      } else if (event.type === 'content_block_stop') {
        expect(event.index).toBe(open);
        open = undefined;
      }
    }
    expect(open).toBeUndefined();
    return blocks.map(({ json, ...block }) => (json === undefined ? block : { ...block, input: JSON.parse(json) }));
  }

  it('streams parallel tool calls whose pieces an engine interleaves as one whole block after another, each with its own arguments', () => {
    const pieces = [
      [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } }],
      [{ index: 0, function: { arguments: '{"city":' } }],
      [{ index: 1, function: { arguments: '{"zone":' } }],
      [{ index: 1, function: { arguments: '"CET"}' } }],
      [{ index: 0, function: { arguments: '"Rome"}' } }],
    ];
    const translator = new MessagesStreamTranslator(request, undefined, context);
    let out = translator.push(chunk({ content: 'Checking.' }));
    for (const toolCalls of pieces) out += translator.push(chunk({ tool_calls: toolCalls }));
    out += translator.push(chunk({ content: 'Done.' }, 'tool_calls'));
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    expect(assembled(out)).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Rome' } },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: { zone: 'CET' } },
      { type: 'text', text: 'Done.' },
    ]);
    // A call streams as it comes once the one before it is whole.
    const sequential = new MessagesStreamTranslator(request, undefined, context);
    let streamed = sequential.push(chunk({ tool_calls: pieces[0] }));
    streamed += sequential.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Rome"}' } }] }));
    const second = sequential.push(chunk({ tool_calls: pieces[1] }));
    expect(events(second)).toEqual(['content_block_stop:0', 'content_block_start:1']);
    expect(events(sequential.push(chunk({ tool_calls: [pieces[3]![0]] })))).toEqual(['content_block_delta:1']);
  });

  it('keeps calls apart that an engine gives the same index, by their ids', () => {
    const translator = new MessagesStreamTranslator(request, undefined, context);
    let out = translator.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"a":1}' } }] }));
    out += translator.push(chunk({ tool_calls: [{ index: 0, id: 'call_b', function: { name: 'g', arguments: '{"b":' } }] }));
    out += translator.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '2}' } }] }, 'tool_calls'));
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    expect(assembled(out)).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'call_b', name: 'g', input: { b: 2 } },
    ]);
  });

  it('reads an empty id on a piece as none, as DashScope sends it on every piece after the first', () => {
    const translator = new MessagesStreamTranslator(request, undefined, context);
    const pieces = [
      { index: 0, id: 'call_a', type: 'function', function: { name: 'bash', arguments: '' } },
      { index: 0, id: '', type: 'function', function: { arguments: '{"command": ' } },
      { index: 0, id: '', type: 'function', function: { arguments: '"ls"}' } },
      { index: 1, id: 'call_b', type: 'function', function: { name: 'read', arguments: '' } },
      { index: 1, id: '', type: 'function', function: { arguments: '{"path": "a"}' } },
    ];
    let out = '';
    for (const piece of pieces) out += translator.push(chunk({ tool_calls: [piece] }));
    out += translator.push(chunk({}, 'tool_calls'));
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    expect(assembled(out)).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'bash', input: { command: 'ls' } },
      { type: 'tool_use', id: 'call_b', name: 'read', input: { path: 'a' } },
    ]);
  });

  it('tells a whole JSON object of arguments as parsing the whole text would, wherever the pieces split it', () => {
    const texts = ['{}', ' {"a":1} ', '{"a":"}"}', '{"a":"\\"}"}', '{"a":[{"b":{}}]}', '{"a":1}}', '{"a":1}{}', '{"a":}', '[{}]', '"{}"', '{"a":1', '{"a":"\\\\"}', '{\n"a"\t:\r1}\n'];
    const parsesToObject = (text: string) => {
      try {
        const value: unknown = JSON.parse(text);
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      } catch {
        return false;
      }
    };
    for (const text of texts) {
      for (let cut = 0; cut <= text.length; cut++) {
        const json = new JsonObjectText();
        json.append(text.slice(0, cut));
        expect(json.whole, `${text} before ${cut}`).toBe(parsesToObject(text.slice(0, cut)));
        json.append(text.slice(cut));
        expect(json.whole, `${text} cut at ${cut}`).toBe(parsesToObject(text));
        expect(json.text).toBe(text);
      }
    }
  });

  it("reads a held-back call's arguments once to tell when they are whole, however many pieces close a brace", () => {
    const translator = new MessagesStreamTranslator(request, undefined, context);
    const items = Array.from({ length: 2000 }, (_, at) => `{"n":${at}}`);
    const pieces = ['{"items":[', ...items.flatMap((item, at) => [item, at < items.length - 1 ? ',' : ']}'])];
    let out = translator.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '' } }] }));
    // The second call begins at once: it waits while the first one's arguments grow.
    out += translator.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }));
    let parsed = 0;
    const parse = JSON.parse;
    const spy = vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (!text.startsWith('{"choices"') && !text.startsWith('{"id"')) parsed += text.length;
      return parse(text, reviver) as unknown;
    });
    try {
      for (const json of pieces) out += translator.push(chunk({ tool_calls: [{ index: 0, function: { arguments: json } }] }));
    } finally {
      spy.mockRestore();
    }
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    expect(assembled(out)).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'f', input: { items: items.map((_, n) => ({ n })) } },
      { type: 'tool_use', id: 'call_b', name: 'g', input: {} },
    ]);
    // parsing the arguments at every piece that ends in a brace read 2,000 × ~15,000 characters
    expect(parsed).toBeLessThan(2 * pieces.join('').length);
  });

  it("ends with Anthropic's error event, not a TypeError, when an engine sends events that are not chunks or pieces that are not tool calls", () => {
    const garbled = new MessagesStreamTranslator(request, undefined, context);
    let out = garbled.push(chunk({ content: 'hi' }));
    out += garbled.push(chunk({ content: 5, tool_calls: [null, 'x', { index: 0, function: { name: 'f', arguments: {} } }] }));
    out += garbled.push(chunk({ tool_calls: { a: 1 } }));
    out += garbled.push(chunk({ content: 'done' }, 'stop'));
    out += garbled.push(Buffer.from('data: [DONE]\n\n'));
    expect(events(out)).toEqual([
      'message_start',
      'content_block_start:0', 'content_block_delta:0', 'content_block_stop:0',
      'content_block_start:1', 'content_block_stop:1',
      'content_block_start:2', 'content_block_delta:2', 'content_block_stop:2',
      'message_delta', 'message_stop',
    ]);
    for (const data of ['null', '5', '"text"']) {
      const translator = new MessagesStreamTranslator(request, undefined, context);
      const ended = translator.push(chunk({ content: 'hi' })) + translator.push(Buffer.from(`data: ${data}\n\n`));
      expect(events(ended).at(-1)).toBe('error');
      expect(ended).toContain('not a chat completion chunk');
    }
  });

  it('answers a whole chat answer whose content or tool calls are not of their types as a message of what is usable, never a 500', () => {
    const answer = (message: unknown) => toMessagesResponse(200, JSON.stringify({ id: 'c', choices: [{ message, finish_reason: 'tool_calls' }] }), request);
    expect(JSON.parse(answer({ content: 5, tool_calls: [null, { id: 't', function: { name: 'f', arguments: 7 } }] }).body).content).toEqual([{ type: 'tool_use', id: 't', name: 'f', input: {} }]);
    expect(answer({ content: 'hi', tool_calls: { a: 1 } })).toMatchObject({ status: 200 });
    expect(JSON.parse(answer({ content: 'hi', tool_calls: 'x' }).body).content).toEqual([{ type: 'text', text: 'hi' }]);
  });

  it('gives a message with no id from the engine an id of its own, whole and streamed', () => {
    const whole = JSON.parse(toMessagesResponse(200, JSON.stringify({ choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }] }), request).body) as { id: string };
    expect(whole.id).toMatch(/^msg_\w{8,}$/);
    const translator = new MessagesStreamTranslator(request, undefined, context);
    const out = translator.push(Buffer.from(`data: ${JSON.stringify({ id: 7, choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`));
    const start = JSON.parse(out.split('\n').find((line) => line.startsWith('data: '))!.slice(6)) as { message: { id: string } };
    expect(start.message.id).toMatch(/^msg_\w{8,}$/);
  });

  it('refuses a tool whose input_schema is null or an array, as it does one with none (typeof null is object)', () => {
    for (const schema of [null, [], undefined]) {
      const body = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'f', input_schema: schema }] };
      expect(() => validateMessagesBody(body)).toThrow(expect.objectContaining({ status: 400, param: 'tools[0].input_schema' }));
    }
  });
});

describe('validating and translating a Messages body (no input makes a TypeError, a 500)', () => {
  const WELL_FORMED = {
    model: 'm',
    max_tokens: 5,
    system: [{ type: 'text', text: 'Be brief.' }],
    metadata: { user_id: 'u' },
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A memo.' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Hm.', signature: 'sig' },
          { type: 'redacted_thinking', data: 'xyz' },
          { type: 'text', text: 'Calling.' },
          { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }, { type: 'image', source: { type: 'url', url: 'u' } }] }, { type: 'text', text: 'Now?' }] },
    ],
    tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }],
    tool_choice: { type: 'tool', name: 'f', disable_parallel_tool_use: true },
    thinking: { type: 'adaptive', display: 'summarized' },
    output_config: { effort: 'medium', format: { type: 'json_schema', schema: { type: 'object' } } },
    output_format: { type: 'json_schema', schema: { type: 'object' } },
  };
  const ODD_VALUES: unknown[] = [undefined, null, 5, 'text', {}, [], [null], { type: 'video' }];

  /** The body with the value at one path (every path of the JSON tree in turn) replaced by each odd value. */
  function* variants(value: unknown): Generator<unknown> {
    if (typeof value !== 'object' || value === null) return;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const withChild = (replacement: unknown) => {
        const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value };
        if (replacement === undefined && !Array.isArray(copy)) delete copy[key];
        else copy[key] = replacement;
        return copy;
      };
      for (const odd of ODD_VALUES) yield withChild(odd);
      for (const changed of variants(child)) yield withChild(changed);
    }
  }

  it('answers every malformed or unusual body with a chat request or a 400, never another error', () => {
    expect(toChatRequest(WELL_FORMED)).toMatchObject({ messages: { length: 5 }, reasoning_effort: 'medium', response_format: { type: 'json_schema' } });
    let cases = 0;
    for (const body of variants(WELL_FORMED)) {
      cases += 1;
      try {
        validateInference('messages', body);
        toChatRequest(body as Record<string, unknown>);
      } catch (refused) {
        expect(refused, JSON.stringify(body)).toMatchObject({ status: 400 });
      }
    }
    expect(cases).toBeGreaterThan(500);
  });

  it('treats a tool of type null as a client tool, as Anthropic does', () => {
    const body = { ...WELL_FORMED, tools: [{ type: null, name: 'f', input_schema: { type: 'object' } }] };
    validateMessagesBody(body);
    expect(toChatRequest(body).tools).toEqual([{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }]);
  });
});

describe('the Messages API route in the layering (ARCHITECTURE.md)', () => {
  it('is given to the fleet by the provider layer with each adapter: fleet/ imports nothing of the Messages translation', () => {
    const fleet = new URL('../src/fleet/', import.meta.url);
    for (const file of readdirSync(fleet).filter((name) => name.endsWith('.ts'))) {
      expect(readFileSync(new URL(file, fleet), 'utf8'), file).not.toMatch(/from '\.\.\/providers\/messages\//);
    }
  });
});
