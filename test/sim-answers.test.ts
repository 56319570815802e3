import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEATHER_TOOL, collectConforming } from './support/chat.js';
import { assertConforms } from './support/conformance.js';
import { postJson } from './support/http.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

/** The sim answers the OpenAI features clients build on (choices, tools, JSON, log probabilities), through the router, with the official SDK. */
describe('simulated engine answers through the router', () => {
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    router = await startRouter({ services: [{ name: 'sim', url: sim.url }] });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('answers n choices, different and each whole, streamed the same as not, usage counting all of them', async () => {
    const request = { model: 'm1', messages: [{ role: 'user' as const, content: 'two answers' }], n: 3, max_tokens: 12 };
    const whole = await client.chat.completions.create(request);
    assertConforms('CreateChatCompletionResponse', whole);
    expect(whole.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    const texts = whole.choices.map((choice) => choice.message.content!);
    expect(new Set(texts).size).toBe(3);
    const tokens = (text: string) => text.match(/\w+|[^\w\s]/g)!.length;
    expect(whole.usage!.completion_tokens).toBe(texts.reduce((sum, text) => sum + tokens(text), 0));

    const chunks = await collectConforming(await client.chat.completions.create({ ...request, stream: true }));
    const streamed = ['', '', ''];
    for (const chunk of chunks) for (const choice of chunk.choices) streamed[choice.index] += choice.delta.content ?? '';
    expect(streamed).toEqual(texts);
    expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason).map((chunk) => chunk.choices[0]!.index)).toEqual([0, 1, 2]);
  });

  it('calls a tool when the user asks and answers once the tool has, streamed as tool-call deltas the SDK assembles', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const whole = await client.chat.completions.create({ model: 'm1', messages, tools: [WEATHER_TOOL] });
    assertConforms('CreateChatCompletionResponse', whole);
    const call = whole.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(whole.choices[0]!.finish_reason).toBe('tool_calls');
    expect(whole.choices[0]!.message.content).toBeNull();
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ location: expect.any(String) });

    const stream = client.chat.completions.stream({ model: 'm1', messages, tools: [WEATHER_TOOL] });
    for await (const chunk of stream) assertConforms('CreateChatCompletionStreamResponse', chunk);
    const assembled = await stream.finalChatCompletion();
    const streamedCall = assembled.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(streamedCall.function).toEqual(call.function);
    expect(streamedCall.id).toMatch(/^call_/);

    const answer = await client.chat.completions.create({
      model: 'm1',
      messages: [...messages, whole.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"celsius": 21}' }],
      tools: [WEATHER_TOOL],
    });
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(answer.choices[0]!.message.content).toEqual(expect.any(String));
  });

  it('honours tool_choice: none answers in text, a named function is called, an unknown one is a 400 passed through', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather?' }];
    const text = await client.chat.completions.create({ model: 'm1', messages, tools: [WEATHER_TOOL], tool_choice: 'none' });
    expect(text.choices[0]!.message.tool_calls).toBeUndefined();
    const other = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } } } } };
    const named = await client.chat.completions.create({ model: 'm1', messages, tools: [WEATHER_TOOL, other], tool_choice: { type: 'function', function: { name: 'get_time' } } });
    const call = named.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function).toEqual({ name: 'get_time', arguments: '{"zone":"UTC"}' });
    const refused = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages, tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'nope' } } });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { param: 'tool_choice', type: 'invalid_request_error' } });
    const withoutTools = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages, tool_choice: { type: 'function', function: { name: 'get_time' } } });
    expect(withoutTools.status).toBe(400);
    expect(withoutTools.body).toMatchObject({ error: { param: 'tool_choice', type: 'invalid_request_error' } });
    const requiredOfNone = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages, tool_choice: 'required' });
    expect(requiredOfNone.status).toBe(400);
    expect(requiredOfNone.body).toMatchObject({ error: { param: 'tool_choice', type: 'invalid_request_error' } });
  });

  it('answers JSON that fits the requested schema, and a JSON object in JSON mode', async () => {
    const schema = {
      type: 'object',
      properties: { steps: { type: 'array', items: { $ref: '#/$defs/step' } }, answer: { type: 'number' }, done: { type: 'boolean' } },
      required: ['steps', 'answer', 'done'],
      $defs: { step: { type: 'object', properties: { explanation: { type: 'string' }, kind: { anyOf: [{ type: 'null' }, { enum: ['add', 'sub'] }] } } } },
      additionalProperties: false,
    };
    const structured = await client.chat.completions.parse({
      model: 'm1',
      messages: [{ role: 'user', content: 'Solve 2 + 2' }],
      response_format: { type: 'json_schema', json_schema: { name: 'solution', schema, strict: true } },
    });
    assertConforms('CreateChatCompletionResponse', structured);
    expect(structured.choices[0]!.message.parsed).toEqual({ steps: [{ explanation: expect.any(String), kind: 'add' }], answer: expect.any(Number), done: expect.any(Boolean) });
    const jsonMode = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } });
    expect(JSON.parse(jsonMode.choices[0]!.message.content!)).toEqual({ answer: expect.any(String) });
  });

  it('reports log probabilities in the chat and legacy completions shapes, streamed and not', async () => {
    const chat = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, logprobs: true, top_logprobs: 2 });
    assertConforms('CreateChatCompletionResponse', chat);
    const content = chat.choices[0]!.logprobs!.content!;
    expect(content.map((entry) => entry.token).join('')).toBe(chat.choices[0]!.message.content);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]!.logprob).toBeGreaterThan(entry.top_logprobs[1]!.logprob);
      expect(Buffer.from(entry.bytes!).toString()).toBe(entry.token);
    }
    const chunks = await collectConforming(await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, logprobs: true, stream: true }));
    expect(chunks.flatMap((chunk) => chunk.choices[0]?.logprobs?.content ?? []).map((entry) => entry.logprob)).toEqual(content.map((entry) => entry.logprob));

    const legacy = await client.completions.create({ model: 'm1', prompt: 'Once', max_tokens: 3, logprobs: 2, n: 2 });
    assertConforms('CreateCompletionResponse', legacy);
    for (const choice of legacy.choices) {
      expect(choice.logprobs!.tokens!.join('')).toBe(choice.text);
      expect(choice.logprobs!.text_offset![0]).toBe('Once'.length);
      expect(Object.keys(choice.logprobs!.top_logprobs![0]!)).toHaveLength(2);
    }
    const refused = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages: [{ role: 'user', content: 'hi' }], top_logprobs: 2 });
    expect(refused.status).toBe(400);
  });

  it('refuses n outside 1–128 as an engine does (400, passed through)', async () => {
    for (const n of [0, 129, 1.5, 'two']) {
      const refused = await postJson(`${router.url}/v1/chat/completions`, { model: 'm1', messages: [{ role: 'user', content: 'hi' }], n });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { param: 'n', code: 'invalid_value' } });
    }
  });
});
