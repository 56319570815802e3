import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { collectConforming, RED_PIXEL, WEATHER_TOOL } from './support/chat.js';
import { fixture, providerBehindRouter, type FakeUpstream } from './support/fake-upstream.js';
import { postJson } from './support/http.js';
import { stopAll, type Proc } from './support/processes.js';
import { idWithSignature, signatureInId } from '../src/providers/gemini/thought-signature.js';

describe('Gemini provider (a fake generateContent API behind the router)', () => {
  let fake: FakeUpstream;
  let client: OpenAI;
  let router: Proc;

  beforeAll(async () => {
    ({ fake, client, router } = await providerBehindRouter(
      { name: 'google', provider: 'gemini', models: ['gemini-x'], api_key: 'goog-test-key' },
      {
        health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
        // one answer per request: the fake replies once, and retries and cooldowns have tests of their own
        retry: { max_attempts: 1 },
        cooldown: { failure_threshold: 100 },
      },
    ));
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it('translates system instruction, roles, inline images and generation config', async () => {
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    const params = {
      model: 'gemini-x',
      messages: [
        { role: 'system', content: 'Explain simply.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: [{ type: 'text', text: 'What is AI? See:' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${RED_PIXEL}` } }] },
      ],
      temperature: 0.3,
      top_p: 0.8,
      top_k: 20,
      max_tokens: 200,
      stop: ['\n\n', 'END'],
      n: 1,
      presence_penalty: 0.5,
      logit_bias: { '1': 2 },
      repetition_penalty: 1.2,
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const completion = await client.chat.completions.create(params);

    const sent = fake.last();
    expect(sent.url).toBe('/v1beta/models/gemini-x:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe('goog-test-key');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: 'Explain simply.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello.' }] },
        { role: 'user', parts: [{ text: 'What is AI? See:' }, { inlineData: { mimeType: 'image/png', data: RED_PIXEL } }] },
      ],
      generationConfig: { temperature: 0.3, topP: 0.8, topK: 20, maxOutputTokens: 200, stopSequences: ['\n\n', 'END'], candidateCount: 1, presencePenalty: 0.5 },
    });

    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.model).toBe('gemini-x');
    expect(completion.choices[0]!.message.content).toBe('AI learns patterns from data to make predictions.');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 10 + 2048, total_tokens: 2066, prompt_tokens_details: { cached_tokens: 6 } });
  });

  it('translates tools and tool results both ways', async () => {
    fake.reply({ status: 200, json: fixture('gemini/response-function-call.json') });
    const completion = await client.chat.completions.create({
      model: 'gemini-x',
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        // the signature Gemini gave the call, sent back where Google's OpenAI-compatible API puts it
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' }, extra_content: { google: { thought_signature: 'sig-paris' } } } as OpenAI.ChatCompletionMessageToolCall] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":18}' },
        { role: 'user', content: 'And Boston?' },
      ],
    });

    const sent = fake.last().body;
    expect(sent.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parametersJsonSchema: WEATHER_TOOL.function.parameters }] }]);
    expect(sent.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    expect(sent.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'sig-paris' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18 } } }, { text: 'And Boston?' }] },
    ]);

    assertConforms('CreateChatCompletionResponse', completion);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls![0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Boston, MA","unit":"celsius"}' },
      extra_content: { google: { thought_signature: 'CiQB0e2Kb5TqZt0mPq1y8Xv3Yk4rX0Jq9hWc7bN2sL1aQ==' } },
    });
  });

  it('carries a thought signature in the tool call id too, so a client that sends back only the id (an OpenAI message rebuilt from its documented fields, a Messages API tool_use block) hands Gemini its signature', async () => {
    // a signature as Gemini writes one (canonical base64), with the characters base64url replaces
    const signature = 'CiQB0e2Kb5TqZt0mPq1y8Xv3Yk4rX0Jq9hWc7bN2sL1a+/8=';
    const calling = fixture('gemini/response-function-call.json').replace(/"thoughtSignature": "[^"]*"/, `"thoughtSignature": "${signature}"`);
    fake.reply({ status: 200, json: calling });
    const completion = await client.chat.completions.create({ model: 'gemini-x', tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Weather in Boston?' }] });
    const { id, function: called } = completion.choices[0]!.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(id).toMatch(/^call_[\w-]+__thought__[\w-]+$/);
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.chat.completions.create({
      model: 'gemini-x',
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Weather in Boston?' },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: called }] },
        { role: 'tool', tool_call_id: id, content: '{"temperature":3}' },
      ],
    });
    expect((fake.last().body.contents as Array<{ parts: unknown[] }>)[1]!.parts[0]).toEqual({ functionCall: { name: 'get_weather', args: { location: 'Boston, MA', unit: 'celsius' } }, thoughtSignature: signature });

    fake.reply({ status: 200, json: calling });
    const tools = [{ name: 'get_weather', input_schema: WEATHER_TOOL.function.parameters }];
    const asked = { role: 'user', content: 'Weather in Boston?' };
    const answer = await postJson(`${router.url}/v1/messages`, { model: 'gemini-x', max_tokens: 50, tools, messages: [asked] });
    const toolUse = (answer.body as { content: Array<{ type: string; id: string; name: string; input: unknown }> }).content.find((block) => block.type === 'tool_use')!;
    expect(toolUse.id).toMatch(/^[\w-]+$/);
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    const next = await postJson(`${router.url}/v1/messages`, {
      model: 'gemini-x',
      max_tokens: 50,
      tools,
      messages: [asked, { role: 'assistant', content: [toolUse] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '3 degrees' }] }],
    });
    expect(next.status).toBe(200);
    expect((fake.last().body.contents as Array<{ parts: Array<{ thoughtSignature?: string }> }>)[1]!.parts[0]!.thoughtSignature).toBe(signature);
  });

  it('reads a signature from an id in either base64 alphabet, and leaves one it could not give back byte for byte out of the id', () => {
    const signature = 'CiIB0e2Kb0x7Yq3nRz5T1uW8pL4mQ6vH2cJ9dF0aS3kE+/8=';
    expect(signatureInId(idWithSignature('call_1', signature))).toBe(signature);
    // LiteLLM's ids carry the signature in the standard alphabet
    expect(signatureInId(`call_1__thought__${signature}`)).toBe(signature);
    expect(idWithSignature('call_1', 'not base64!')).toBe('call_1');
    expect(idWithSignature('call_1', undefined)).toBe('call_1');
    expect(signatureInId('call_1')).toBeUndefined();
    expect(signatureInId(42)).toBeUndefined();
  });

  it('sends tool schemas as JSON Schema, which Gemini takes whole, and structured-output schemas with them', async () => {
    fake.reply({ status: 200, json: fixture('gemini/response-text.json') });
    // strict OpenAI tools carry keywords outside Gemini's OpenAPI subset (additionalProperties, $schema)
    const strict = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' };
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    await client.chat.completions.create({
      model: 'gemini-x',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: strict, strict: true } }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
    const sent = fake.last().body;
    expect(sent.tools).toEqual([{ functionDeclarations: [{ name: 'lookup', parametersJsonSchema: strict }] }]);
    expect(sent.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it.each([
    ['a blocked prompt', 'gemini/response-prompt-blocked.json'],
    ['a candidate stopped for safety', 'gemini/response-candidate-safety.json'],
  ])('answers %s with finish_reason content_filter and empty content', async (_, file) => {
    fake.reply({ status: 200, json: fixture(file) });
    const completion = await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'something unsafe' }] });
    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.choices[0]!.finish_reason).toBe('content_filter');
    expect(completion.choices[0]!.message.content).toBe('');
  });

  it('streams text live from events split at awkward places, ending with a usage chunk and [DONE]', async () => {
    fake.reply({ sse: fixture('gemini/stream-text.sse'), chunkBytes: 6 });
    const chunks = await collectConforming(
      await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'A story' }], stream: true, stream_options: { include_usage: true } }),
    );
    expect(fake.last().url).toBe('/v1beta/models/gemini-x:streamGenerateContent?alt=sse');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Once upon a time, a très petit robot 🤖 learned to paint.');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 9, completion_tokens: 14, total_tokens: 23, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it("asks for thoughts at Google's budget for reasoning_effort, and answers with them as reasoning_content and reasoning_tokens, apart from the content", async () => {
    fake.reply({ status: 200, json: fixture('gemini/response-thoughts.json') });
    const completion = await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'Is 97 prime?' }], reasoning_effort: 'medium' });
    expect(fake.last().body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } });
    assertConforms('CreateChatCompletionResponse', completion);
    const message = completion.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.content).toBe('97 is prime.');
    expect(message.reasoning_content).toBe('**Weighing the options**\n\nA prime test by trial division up to the square root is enough here.');
    expect(completion.usage).toMatchObject({ completion_tokens: 5 + 402, completion_tokens_details: { reasoning_tokens: 402 } });
  });

  it('streams thoughts as reasoning_content deltas, with reasoning_tokens in the usage chunk', async () => {
    fake.reply({ sse: fixture('gemini/stream-thoughts.sse'), chunkBytes: 8 });
    const chunks = await collectConforming(
      await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'Is 97 prime?' }], reasoning_effort: 'low', stream: true, stream_options: { include_usage: true } }),
    );
    expect(fake.last().body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    const deltas = chunks.map((c) => (c.choices[0]?.delta ?? {}) as { content?: string | null; reasoning_content?: string });
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('**Checking divisors**\n\nNone of 2, 3, 5, 7 divides 97.');
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('97 is prime.');
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 11, completion_tokens: 5 + 302, total_tokens: 318, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 302 } });
  });

  it('streams a function call as a tool-call delta', async () => {
    fake.reply({ sse: fixture('gemini/stream-function-call.sse'), chunkBytes: 9 });
    const chunks = await collectConforming(await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'Weather?' }], tools: [WEATHER_TOOL], stream: true }));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
      extra_content: { google: { thought_signature: 'CiIB0e2Kb0x7Yq3nRz5T1uW8pL4mQ6vH2cJ9dF0aS3kE' } },
    });
    expect(calls[0]!.id).toBeTruthy();
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('reports a stream that ends before any finish reason as an error, not as complete', async () => {
    const firstEvent = fixture('gemini/stream-text.sse').split('\r\n\r\n')[0]!;
    fake.reply({ sse: `${firstEvent}\r\n\r\n` });
    const stream = await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'A story' }], stream: true });
    const failure = await (async () => {
      for await (const _ of stream);
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('without [DONE]');
  });

  it('answers a malformed function call with a 502 the SDK raises (and would retry), whole or streamed, never as a normal stop', async () => {
    const malformed = { candidates: [{ content: { parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call: get_weather(' }] };
    fake.reply({ status: 200, json: JSON.stringify(malformed) });
    const ask = { model: 'gemini-x', messages: [{ role: 'user' as const, content: 'Weather?' }], tools: [WEATHER_TOOL] };
    const whole = await client.chat.completions.create(ask).catch((error: unknown) => error);
    expect(whole).toBeInstanceOf(OpenAI.InternalServerError);
    expect(whole).toMatchObject({ status: 502, code: 'malformed_function_call' });
    expect((whole as Error).message).toContain('Malformed function call: get_weather(');

    fake.reply({ sse: `data: ${JSON.stringify(malformed)}\r\n\r\n` });
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    const finishes: unknown[] = [];
    const streamed = await (async () => {
      for await (const chunk of stream) finishes.push(...chunk.choices.map((choice) => choice.finish_reason).filter(Boolean));
    })().catch((error: unknown) => error);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect((streamed as Error).message).toContain('invalid function call');
    expect(finishes).toEqual([]);
  });

  it.each([
    ['error-quota.json', 429, 429, 'rate_limit_error'],
    // Google says 400 for a bad key; OpenAI clients expect 401
    ['error-invalid-key.json', 400, 401, 'authentication_error'],
    ['error-unavailable.json', 503, 503, 'service_unavailable'],
  ])('maps %s (HTTP %i) to an OpenAI error with status %i', async (file, upstreamStatus, status, type) => {
    const body = fixture(`gemini/${file}`);
    fake.reply({ status: upstreamStatus, json: body });
    const failure = await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const error = failure as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(status);
    expect(error.type).toBe(type);
    expect(error.message).toContain((JSON.parse(body) as { error: { message: string } }).error.message);
    assertConforms('ErrorResponse', { error: error.error });
  });

  it('refuses an image given by link with a 400 before calling Gemini', async () => {
    const before = fake.received.length;
    const failure = await client.chat.completions
      .create({ model: 'gemini-x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }] }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as Error).message).toContain('data: URLs');
    expect(fake.received.length).toBe(before);
  });

  it('refuses embeddings with a 400', async () => {
    const failure = await client.embeddings.create({ model: 'gemini-x', input: 'hello' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('unsupported_endpoint');
  });

  it('never sent a health probe upstream', () => {
    expect(fake.received.every((request) => request.method === 'POST' && request.url.startsWith('/v1beta/models/gemini-x:'))).toBe(true);
  });
});

describe('Gemini stream events past max_response_bytes', () => {
  let fake: FakeUpstream;
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    ({ fake, router, client } = await providerBehindRouter(
      { name: 'google', provider: 'gemini', models: ['gemini-x'], api_key: 'goog-test-key' },
      { max_response_bytes: 4096, health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 }, retry: { max_attempts: 1 }, cooldown: { failure_threshold: 100 } },
    ));
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it('end the stream with an error event and count as a failure of the backend; smaller events in the same stream pass', async () => {
    const event = (text: string, finishReason?: string) => `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text }] }, ...(finishReason && { finishReason }) }] })}\r\n\r\n`;
    fake.reply({ sse: event('a'.repeat(3000)) + event('b'.repeat(3000)) + event('c'.repeat(10_000), 'STOP'), chunkBytes: 500 });
    const stream = await client.chat.completions.create({ model: 'gemini-x', messages: [{ role: 'user', content: 'A long story' }], stream: true });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((error: unknown) => error);
    expect(text).toBe('a'.repeat(3000) + 'b'.repeat(3000));
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('longer than 4096');
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; error_count: number; last_error: { message: string } | null }> };
    expect(stats.services.find((service) => service.name === 'google')).toMatchObject({ error_count: 1, last_error: { message: expect.stringContaining('longer than 4096') } });
  });
});
