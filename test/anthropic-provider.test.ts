import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { anthropicMessage, anthropicToolUseStream } from './support/anthropic-answers.js';
import { assertConforms } from './support/conformance.js';
import { collectConforming, RED_PIXEL, WEATHER_TOOL } from './support/chat.js';
import { fixture, providerBehindRouter, type FakeUpstream } from './support/fake-upstream.js';
import { stopAll, type Proc } from './support/processes.js';

describe('Anthropic provider (a fake Messages API behind the router)', () => {
  let fake: FakeUpstream;
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    ({ fake, router, client } = await providerBehindRouter(
      { name: 'claude', provider: 'anthropic', models: ['claude-x', 'claude-opus-4-7'], api_key: 'sk-ant-test-key' },
      {
        // error answers below must not eject the only backend
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

  it('is healthy without ever being probed', async () => {
    const services = (await (await fetch(`${router.url}/services`)).json()) as { services?: Array<{ healthy: boolean }> } | Array<{ healthy: boolean }>;
    const list = Array.isArray(services) ? services : services.services!;
    expect(list[0]!.healthy).toBe(true);
    expect(fake.received).toEqual([]);
  });

  it('translates a multi-turn chat with system prompt, images and sampling parameters', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const params = {
      model: 'claude-x',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these images?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${RED_PIXEL}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        { role: 'user', content: 'Be brief.' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop: 'END',
      frequency_penalty: 0.5,
      presence_penalty: 0.1,
      repetition_penalty: 1.1,
      logit_bias: { '50256': -100 },
      n: 1,
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const completion = await client.chat.completions.create(params);

    const sent = fake.last();
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-test-key');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      model: 'claude-x',
      system: 'You are terse.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these images?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: RED_PIXEL } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'Be brief.' },
          ],
        },
      ],
      max_tokens: 4096,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END'],
    });

    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.model).toBe('claude-x');
    expect(completion.choices[0]!.message.content).toBe('Hello! The image shows a red square on a white background.');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 25 + 1024, completion_tokens: 16, total_tokens: 25 + 1024 + 16, prompt_tokens_details: { cached_tokens: 1024 } });
  });

  it('passes max_completion_tokens as max_tokens', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 64 });
    expect(fake.last().body.max_tokens).toBe(64);
  });

  it('translates tools, tool choice, earlier tool calls and tool results, and answers with tool calls', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-tool-use.json') });
    const completion = await client.chat.completions.create({
      model: 'claude-x',
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
      parallel_tool_calls: false,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_paris', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'toolu_rome', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_paris', content: '18C, sunny' },
        { role: 'tool', tool_call_id: 'toolu_rome', content: '24C, cloudy' },
        { role: 'user', content: 'And San Francisco?' },
      ],
    });

    const sent = fake.last().body;
    expect(sent.tools).toEqual([{ name: 'get_weather', description: 'Current weather', input_schema: WEATHER_TOOL.function.parameters }]);
    expect(sent.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(sent.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_paris', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'toolu_rome', name: 'get_weather', input: { location: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_paris', content: '18C, sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_rome', content: '24C, cloudy' },
          { type: 'text', text: 'And San Francisco?' },
        ],
      },
    ]);

    assertConforms('CreateChatCompletionResponse', completion);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll check the weather in San Francisco.");
    expect(choice.message.tool_calls).toEqual([
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
    ]);
  });

  it("thinks at LiteLLM's budget for reasoning_effort, raising max_tokens above it, and answers with reasoning_content and thinking_blocks", async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-thinking-tool-use.json') });
    const ask = [{ role: 'user' as const, content: 'Weather in Paris?' }];
    const completion = await client.chat.completions.create({ model: 'claude-x', messages: ask, tools: [WEATHER_TOOL], reasoning_effort: 'high' });

    // no limit from the client: the default (4096) is not above the budget, so the answer keeps 4096 tokens after it
    expect(fake.last().body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 4096 }, max_tokens: 4096 + 4096 });
    expect(fake.last().body).not.toHaveProperty('reasoning_effort');
    assertConforms('CreateChatCompletionResponse', completion);
    const message = completion.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: unknown[] };
    expect(message.content).toBe('Let me check the weather in Paris.');
    expect(message.reasoning_content).toBe('The user wants the weather in Paris. I should call get_weather with location Paris.');
    const recorded = (JSON.parse(fixture('anthropic/message-thinking-tool-use.json')) as { content: unknown[] }).content;
    expect(message.thinking_blocks).toEqual(recorded.slice(0, 2));
    expect(message.tool_calls).toEqual([{ id: 'toolu_01Th1nkW3ather', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }]);

    // the next turn hands the signed thinking back, first in the assistant turn, as Anthropic requires with tool use
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    await client.chat.completions.create({
      model: 'claude-x',
      tools: [WEATHER_TOOL],
      reasoning_effort: 'low',
      max_completion_tokens: 100,
      messages: [...ask, message as OpenAI.ChatCompletionAssistantMessageParam, { role: 'tool', tool_call_id: 'toolu_01Th1nkW3ather', content: '18C, sunny' }],
    });
    const sent = fake.last().body;
    // a limit not above the budget is raised by it
    expect(sent).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 1024 + 100 });
    expect((sent.messages as unknown[])[1]).toEqual({
      role: 'assistant',
      content: [...recorded.slice(0, 2), { type: 'text', text: 'Let me check the weather in Paris.' }, { type: 'tool_use', id: 'toolu_01Th1nkW3ather', name: 'get_weather', input: { location: 'Paris' } }],
    });
  });

  it("passes Anthropic's own thinking parameter on, keeps a limit above its budget, and sends no thinking for reasoning_effort none", async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') }, { status: 200, json: fixture('anthropic/message-text.json') });
    const thinking = { type: 'enabled', budget_tokens: 10_000 };
    await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 16_000, reasoning_effort: 'low', thinking } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(fake.last().body).toMatchObject({ thinking, max_tokens: 16_000 });
    await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], reasoning_effort: 'none' as OpenAI.ReasoningEffort });
    expect(fake.last().body).not.toHaveProperty('thinking');
    expect(fake.last().body.max_tokens).toBe(4096);
  });

  it('asks a model that thinks adaptively (Opus 4.7 refuses a fixed budget) for adaptive thinking at the effort, and answers with its thinking', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-thinking-tool-use.json') });
    const completion = await client.chat.completions.create({ model: 'claude-opus-4-7', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL], reasoning_effort: 'xhigh' });
    expect(fake.last().body).toMatchObject({ model: 'claude-opus-4-7', thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' }, max_tokens: 4096 });
    const message = completion.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content).toBe('The user wants the weather in Paris. I should call get_weather with location Paris.');
  });

  describe('response_format', () => {
    const City = z.object({ city: z.string(), population: z.number() });
    const format = zodResponseFormat(City, 'city');
    const answer = { city: 'Paris', population: 2_100_000 };
    const ask = [{ role: 'user' as const, content: 'The largest city of France?' }];
    const answerCall = { type: 'tool_use', id: 'toolu_json', name: 'json_tool_call', input: answer };

    it("asks a model with structured outputs (Opus 4.7) for the schema in output_config.format, beside its effort, and the SDK parses the answer", async () => {
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: JSON.stringify(answer) }], 'end_turn') });
      const completion = await client.chat.completions.parse({ model: 'claude-opus-4-7', messages: ask, response_format: format, reasoning_effort: 'low' });

      const sent = fake.last().body;
      // the schema less its $schema, which names the dialect and which Anthropic's SDK does not send
      const schema = { type: 'object', properties: { city: { type: 'string' }, population: { type: 'number' } }, required: ['city', 'population'], additionalProperties: false };
      expect(sent.output_config).toEqual({ effort: 'low', format: { type: 'json_schema', schema } });
      expect(Object.keys(sent).filter((field) => ['tools', 'tool_choice', 'response_format'].includes(field))).toEqual([]);
      assertConforms('CreateChatCompletionResponse', completion);
      expect(completion.choices[0]!.finish_reason).toBe('stop');
      expect(completion.choices[0]!.message.parsed).toEqual(answer);
    });

    it("sends Claude 4.5 and later the schema as Anthropic's constrained decoding takes it (bounds described, objects closed, oneOf as anyOf), the client's body unchanged for the cache, and the SDK parses the answer", async () => {
      const Contact = z.object({
        name: z.string().min(1).max(40).describe('Full name'),
        email: z.string().email(),
        age: z.number().int().min(18).max(120),
        tags: z.array(z.string()).min(1).max(3),
        role: z.union([z.object({ kind: z.literal('staff'), team: z.string() }), z.object({ kind: z.literal('guest') })]),
      });
      const contactFormat = zodResponseFormat(Contact, 'contact');
      const contact = { name: 'Ana Lima', email: 'ana@example.com', age: 41, tags: ['vip'], role: { kind: 'guest' } };
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: JSON.stringify(contact) }], 'end_turn') });
      // temperature 0: cached, under the key of the body as the client sent it
      const ask = { model: 'claude-opus-4-7', messages: [{ role: 'user' as const, content: 'Who wrote?' }], response_format: contactFormat, temperature: 0 };
      const completion = await client.chat.completions.parse(ask);
      expect(completion.choices[0]!.message.parsed).toEqual(contact);

      const sent = (fake.last().body.output_config as { format: { type: string; schema: { properties: Record<string, unknown> } } }).format;
      expect(sent.type).toBe('json_schema');
      // what Anthropic's own SDK sends for the schema (lib/transform-json-schema)
      expect(sent.schema).toEqual(transformJSONSchema(contactFormat.json_schema.schema!));
      expect(sent.schema.properties.name).toEqual({ type: 'string', description: 'Full name\n\n{minLength: 1, maxLength: 40}' });
      expect(sent.schema.properties.age).toEqual({ type: 'integer', description: '{minimum: 18, maximum: 120}' });
      expect(sent.schema.properties.tags).toMatchObject({ minItems: 1, description: '{maxItems: 3}' });
      expect(sent.schema.properties.email).toMatchObject({ format: 'email', description: expect.stringMatching(/^\{pattern: /) });
      expect(sent.schema).not.toHaveProperty('$schema');
      expect(JSON.stringify(sent.schema)).not.toMatch(/"(minimum|maximum|minLength|maxLength|maxItems|pattern)":/);

      const before = fake.received.length;
      expect((await client.chat.completions.parse(ask)).choices[0]!.message.parsed).toEqual(contact);
      expect(fake.received.length).toBe(before);

      const union = { type: 'object', properties: { at: { oneOf: [{ type: 'object', properties: { x: { type: 'number', minimum: 0 } } }, { type: 'null' }] } } };
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: '{"at":null}' }], 'end_turn') });
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask.messages, response_format: { type: 'json_schema', json_schema: { name: 'at', schema: union } } });
      expect((fake.last().body.output_config as { format: unknown }).format).toEqual({
        type: 'json_schema',
        schema: { type: 'object', properties: { at: { anyOf: [{ type: 'object', properties: { x: { type: 'number', description: '{minimum: 0}' } }, additionalProperties: false }, { type: 'null' }] } }, additionalProperties: false },
      });
    });

    it("sends a strict function tool (the SDK's zodFunction) to Claude 4.5 and later as a strict tool, its schema rewritten as a response format's; older models get it as sent", async () => {
      const Booking = z.object({ guests: z.number().int().min(1).max(8), date: z.string() });
      const book = zodFunction({ name: 'book', parameters: Booking });
      const booking = { guests: 2, date: '2026-12-01' };
      const ask = [{ role: 'user' as const, content: 'A table for two on 1 December.' }];
      const bookingCall = () => fake.reply({ status: 200, json: anthropicMessage([{ type: 'tool_use', id: 'toolu_book', name: 'book', input: booking }], 'tool_use') });
      bookingCall();
      const completion = await client.chat.completions.parse({ model: 'claude-opus-4-7', messages: ask, tools: [book] });
      expect((completion.choices[0]!.message.tool_calls?.[0] as { function: { parsed_arguments: unknown } } | undefined)?.function.parsed_arguments).toEqual(booking);
      const strictTool = { name: 'book', input_schema: transformJSONSchema(book.function.parameters!), strict: true };
      expect(fake.last().body.tools).toEqual([strictTool]);
      expect(JSON.stringify(strictTool.input_schema)).not.toMatch(/"(minimum|maximum)":/);

      // beside a tool not asked strict, which goes as sent
      bookingCall();
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, tools: [book, WEATHER_TOOL] });
      expect(fake.last().body.tools).toEqual([strictTool, { name: WEATHER_TOOL.function.name, description: WEATHER_TOOL.function.description, input_schema: WEATHER_TOOL.function.parameters }]);

      bookingCall();
      await client.chat.completions.parse({ model: 'claude-x', messages: ask, tools: [book] });
      expect(fake.last().body.tools).toEqual([{ name: 'book', input_schema: book.function.parameters }]);
    });

    it("asks Claude 4.5 and later through the answer tool, the schema as sent, for a schema no rewrite keeps (a map, recursion), streamed or not, sends such a strict tool not strict, and keeps what a reference has beside it", async () => {
      // a map (Pydantic's dict[str, int]), which OpenAI's strict mode refuses too (its SDK's zod helper throws)
      const counts = { type: 'object', properties: { counts: { type: 'object', additionalProperties: { type: 'integer' } } }, required: ['counts'] };
      const tallyFormat = { type: 'json_schema' as const, json_schema: { name: 'tally', schema: counts } };
      const tally = { counts: { apples: 3, pears: 2 } };
      const json = JSON.stringify(tally);
      fake.reply({ status: 200, json: anthropicMessage([{ ...answerCall, input: tally }], 'tool_use') });
      const completion = await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, response_format: tallyFormat });
      let sent = fake.last().body;
      expect(sent).not.toHaveProperty('output_config');
      expect(sent.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: counts }]);
      expect(sent.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
      assertConforms('CreateChatCompletionResponse', completion);
      expect(completion.choices[0]!.finish_reason).toBe('stop');
      expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual(tally);

      // streamed while thinking, the text before the call held and dropped, as for older models
      fake.reply({ sse: anthropicToolUseStream('toolu_json', 'json_tool_call', [json.slice(0, 12), json.slice(12)], ['Counting.']), chunkBytes: 13 });
      const chunks = await collectConforming(await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, response_format: tallyFormat, reasoning_effort: 'low', stream: true }));
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(json);
      expect(chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(false);

      const tree = { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } }, required: ['name', 'children'], additionalProperties: false };
      const plant = { type: 'function' as const, function: { name: 'plant', parameters: tree, strict: true } };
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'tool_use', id: 'toolu_plant', name: 'plant', input: { name: 'oak', children: [] } }], 'tool_use') });
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, tools: [plant] });
      expect(fake.last().body.tools).toEqual([{ name: 'plant', input_schema: tree }]);

      const described = {
        type: 'object',
        properties: { home: { $ref: '#/$defs/City', description: 'Where they live' } },
        required: ['home'],
        $defs: { City: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      };
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: '{"home":{"city":"Paris"}}' }], 'end_turn') });
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'home', schema: described } } });
      sent = fake.last().body;
      const city = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
      expect((sent.output_config as { format: unknown }).format).toEqual({
        type: 'json_schema',
        schema: { type: 'object', properties: { home: { ...city, description: 'Where they live' } }, required: ['home'], $defs: { City: city }, additionalProperties: false },
      });
    });

    it('sends a schema whose union or properties hold more schemas than a function call takes arguments (300,000), as any other', async () => {
      const variants = Array.from({ length: 300_000 }, (_, at) => ({ const: at }));
      const wide = { type: 'object', properties: { pick: { anyOf: variants } }, required: ['pick'], additionalProperties: false };
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: '{"pick":1}' }], 'end_turn') });
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'pick', schema: wide } } });
      expect((fake.last().body.output_config as { format: unknown }).format).toEqual({ type: 'json_schema', schema: wide });
      const many = { type: 'object', properties: Object.fromEntries(variants.map((variant, at) => [`p${at}`, variant])), additionalProperties: false };
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'tool_use', id: 'toolu_many', name: 'many', input: {} }], 'tool_use') });
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, tools: [{ type: 'function', function: { name: 'many', parameters: many, strict: true } }] });
      expect(fake.last().body.tools).toEqual([{ name: 'many', input_schema: many, strict: true }]);
    });

    it('asks through the answer tool, the schema as sent, where the copies of what references refer to would repeat a large schema hundreds of times, or a chain of references gathers keywords', async () => {
      // each level refers to the next twice with a description; the last is an enum of 20,000 values, copied some 800 times
      const $defs = Object.fromEntries(Array.from({ length: 9 }, (_, level) => [`W${level}`, level === 8
        ? { enum: Array.from({ length: 20_000 }, (_, at) => `value ${at}`) }
        : { type: 'object', properties: { a: { $ref: `#/$defs/W${level + 1}`, description: 'a' }, b: { $ref: `#/$defs/W${level + 1}`, description: 'b' } } }]));
      const schema = { type: 'object', properties: { top: { $ref: '#/$defs/W0', description: 'top' } }, $defs };
      fake.reply({ status: 200, json: anthropicMessage([{ ...answerCall, input: {} }], 'tool_use') });
      const completion = await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'wide', schema } } });
      expect(completion.choices[0]!.message.content).toBe('{}');
      expect(fake.last().body).not.toHaveProperty('output_config');
      expect(fake.last().body.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: schema }]);

      // an allOf's reference to a reference, 5,000 long, each with a keyword of its own that each step copies again
      const chain = Object.fromEntries(Array.from({ length: 5_001 }, (_, at) => [`G${at}`, at === 5_000 ? { type: 'string' } : { $ref: `#/x-chain/G${at + 1}`, [`x-${at}`]: at }]));
      const gathering = { type: 'object', properties: { top: { allOf: [{ $ref: '#/x-chain/G0' }] } }, 'x-chain': chain };
      fake.reply({ status: 200, json: anthropicMessage([{ ...answerCall, input: {} }], 'tool_use') });
      await client.chat.completions.create({ model: 'claude-opus-4-7', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'gathering', schema: gathering } } });
      expect(fake.last().body).not.toHaveProperty('output_config');
      expect(fake.last().body.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: gathering }]);
    });

    it("makes an older model call LiteLLM's json_tool_call with the schema, and answers with its input as the content, finish_reason stop", async () => {
      fake.reply({ status: 200, json: anthropicMessage([answerCall], 'tool_use') });
      const completion = await client.chat.completions.parse({ model: 'claude-x', messages: ask, response_format: format });

      const sent = fake.last().body;
      expect(sent.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: format.json_schema.schema }]);
      expect(sent.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
      expect(sent).not.toHaveProperty('output_config');
      assertConforms('CreateChatCompletionResponse', completion);
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe('stop');
      expect(choice.message.content).toBe(JSON.stringify(answer));
      expect(choice.message.tool_calls ?? []).toEqual([]);
      expect(choice.message.parsed).toEqual(answer);
    });

    it("streams the answer tool's input as content deltas the SDK's streaming helper parses", async () => {
      const json = JSON.stringify(answer);
      fake.reply({ sse: anthropicToolUseStream('toolu_json', 'json_tool_call', [json.slice(0, 7), json.slice(7, 20), json.slice(20)]), chunkBytes: 13 });
      const stream = client.chat.completions.stream({ model: 'claude-x', messages: ask, response_format: format, stream_options: { include_usage: true } });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      stream.on('chunk', (chunk) => {
        assertConforms('CreateChatCompletionStreamResponse', chunk);
        chunks.push(chunk);
      });
      const final = await stream.finalChatCompletion();

      expect(fake.last().body).toMatchObject({ stream: true, tool_choice: { type: 'tool', name: 'json_tool_call' } });
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(json);
      expect(chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(false);
      expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason).map((chunk) => chunk.choices[0]!.finish_reason)).toEqual(['stop']);
      expect(final.choices[0]!.message.parsed).toEqual(answer);
    });

    it("leaves the model free to think or call the client's tools first, and answers a call of the client's tool as a tool call", async () => {
      fake.reply({ status: 200, json: anthropicMessage([answerCall], 'tool_use') }, { status: 200, json: fixture('anthropic/message-tool-use.json') });
      // Anthropic refuses forced tool use while thinking
      const thought = await client.chat.completions.create({ model: 'claude-x', messages: ask, response_format: format, reasoning_effort: 'low' });
      expect(fake.last().body).toMatchObject({ thinking: { type: 'enabled' }, tools: [{ name: 'json_tool_call' }] });
      expect(fake.last().body).not.toHaveProperty('tool_choice');
      expect(thought.choices[0]!.message.content).toBe(JSON.stringify(answer));

      const called = await client.chat.completions.create({ model: 'claude-x', messages: ask, response_format: format, tools: [WEATHER_TOOL], tool_choice: 'auto' });
      expect(fake.last().body).toMatchObject({ tools: [{ name: 'get_weather' }, { name: 'json_tool_call' }], tool_choice: { type: 'auto' } });
      expect(called.choices[0]!.finish_reason).toBe('tool_calls');
      expect(called.choices[0]!.message.tool_calls).toMatchObject([{ function: { name: 'get_weather' } }]);
    });

    it("answers with the answer tool's input alone when the model wrote text before calling it (unforced, while thinking), streamed or not, as the SDK parses it; a model that may not call it streams its text", async () => {
      const preamble = 'I will give the answer in the format asked.';
      fake.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: preamble }, answerCall], 'tool_use') });
      const whole = await client.chat.completions.parse({ model: 'claude-x', messages: ask, response_format: format, reasoning_effort: 'low' });
      expect(whole.choices[0]!.message).toMatchObject({ content: JSON.stringify(answer), parsed: answer });

      const json = JSON.stringify(answer);
      fake.reply({ sse: anthropicToolUseStream('toolu_json', 'json_tool_call', [json.slice(0, 9), json.slice(9)], [preamble.slice(0, 10), preamble.slice(10)]), chunkBytes: 13 });
      const stream = client.chat.completions.stream({ model: 'claude-x', messages: ask, response_format: format, reasoning_effort: 'low' });
      const contents: string[] = [];
      stream.on('content.delta', ({ delta }) => contents.push(delta));
      expect((await stream.finalChatCompletion()).choices[0]!.message).toMatchObject({ content: json, parsed: answer });
      expect(contents.join('')).toBe(json);

      // Without the answer tool's call, the text held is the answer, and a client tool's call follows it.
      fake.reply({ sse: anthropicToolUseStream('toolu_w', 'get_weather', ['{"location":"Paris"}'], ['Let me ', 'check.']) });
      const called = client.chat.completions.stream({ model: 'claude-x', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'city', schema: format.json_schema.schema } }, tools: [WEATHER_TOOL] });
      const calledMessage = (await called.finalChatCompletion()).choices[0]!.message;
      expect(calledMessage).toMatchObject({ content: 'Let me check.', tool_calls: [{ function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] });

      // Opus 4.7 is asked for structured outputs, not the tool: its text streams as it comes.
      fake.reply({ sse: anthropicToolUseStream('toolu_w', 'get_weather', ['{}'], ['{"city":', '"Paris"}']) });
      const structured = client.chat.completions.stream({ model: 'claude-opus-4-7', messages: ask, response_format: { type: 'json_schema', json_schema: { name: 'city', schema: format.json_schema.schema } }, tools: [WEATHER_TOOL] });
      const pieces: string[] = [];
      structured.on('content.delta', ({ delta }) => pieces.push(delta));
      await structured.finalChatCompletion();
      expect(pieces).toEqual(['{"city":', '"Paris"}']);
    });

    it("asks every model for json_object through the answer tool with a schema of any object (structured outputs take no open object), forced, and answers with its input as the content, streamed or not", async () => {
      const anyObject = { type: 'object', properties: {}, additionalProperties: true };
      const free = { verdict: 'yes', reasons: ['a', 'b'], extra: { depth: 1 } };
      const json = JSON.stringify(free);
      for (const model of ['claude-x', 'claude-opus-4-7']) {
        fake.reply({ status: 200, json: anthropicMessage([{ ...answerCall, input: free }], 'tool_use') });
        const completion = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'Answer in JSON.' }, ...ask], response_format: { type: 'json_object' } });
        const sent = fake.last().body;
        expect(sent.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: anyObject }]);
        expect(sent.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
        expect(sent.system).toBe('Answer in JSON.');
        expect(sent).not.toHaveProperty('output_config');
        assertConforms('CreateChatCompletionResponse', completion);
        expect(completion.choices[0]!.finish_reason).toBe('stop');
        expect(completion.choices[0]!.message.content).toBe(json);
        expect(completion.choices[0]!.message.tool_calls ?? []).toEqual([]);

        fake.reply({ sse: anthropicToolUseStream('toolu_json', 'json_tool_call', [json.slice(0, 11), json.slice(11)]), chunkBytes: 13 });
        const chunks = await collectConforming(await client.chat.completions.create({ model, messages: ask, response_format: { type: 'json_object' }, stream: true }));
        expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(json);
        expect(chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(false);
        expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason).map((chunk) => chunk.choices[0]!.finish_reason)).toEqual(['stop']);
      }
    });

    it("tells the model to answer with one JSON object, after the client's own system text, where the answer tool cannot be forced (thinking, the client's tools)", async () => {
      const system = 'You grade essays.\n\nBe brief.';
      const unforced: Array<Record<string, unknown>> = [
        { response_format: { type: 'json_object' }, reasoning_effort: 'low' },
        { response_format: { type: 'json_object' }, tools: [WEATHER_TOOL] },
        { response_format: format, tools: [WEATHER_TOOL] },
      ];
      for (const fields of unforced) {
        for (const messages of [[{ role: 'system' as const, content: system }, ...ask], ask]) {
          fake.reply({ status: 200, json: anthropicMessage([{ ...answerCall, input: answer }], 'tool_use') });
          await client.chat.completions.create({ model: 'claude-x', messages, ...fields } as never);
          const sent = fake.last().body;
          expect(sent).not.toHaveProperty('tool_choice.name');
          const sentSystem = String(sent.system);
          const instruction = messages === ask ? sentSystem : sentSystem.slice(`${system}\n\n`.length);
          if (messages !== ask) expect(sentSystem.startsWith(`${system}\n\n`), JSON.stringify(fields)).toBe(true);
          expect(instruction).toMatch(/single JSON object/);
          expect(instruction).toContain('json_tool_call');
        }
      }
      // Forced, the tool holds the answer to one object: the client's system text goes alone.
      fake.reply({ status: 200, json: anthropicMessage([{ ...answerCall, input: answer }], 'tool_use') });
      await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'system', content: system }, ...ask], response_format: { type: 'json_object' } });
      expect(fake.last().body.system).toBe(system);
    });

    it('asks for nothing for text', async () => {
      for (const model of ['claude-x', 'claude-opus-4-7']) {
        fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
        await client.chat.completions.create({ model, messages: ask, response_format: { type: 'text' } });
        expect(Object.keys(fake.last().body).filter((field) => ['output_config', 'tools', 'tool_choice', 'response_format'].includes(field))).toEqual([]);
      }
    });

    it('refuses a malformed response_format, and a client tool named json_tool_call, with a 400 before calling Anthropic', async () => {
      const before = fake.received.length;
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ response_format: 'json' }, 'response_format', 'invalid_type'],
        [{ response_format: { type: 'xml' } }, 'response_format.type', 'invalid_value'],
        [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema', 'missing_required_parameter'],
        [{ response_format: { type: 'json_schema', json_schema: { name: 'city', schema: 'object' } } }, 'response_format.json_schema.schema', 'invalid_value'],
        [{ response_format: { type: 'json_schema', json_schema: { name: 'city', strict: 'yes', schema: { type: 'object' } } } }, 'response_format.json_schema.strict', 'invalid_type'],
        [{ response_format: format, tools: [{ type: 'function', function: { name: 'json_tool_call', parameters: { type: 'object' } } }] }, 'tools', 'invalid_value'],
        [{ response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'json_tool_call', parameters: { type: 'object' } } }] }, 'tools', 'invalid_value'],
      ];
      for (const model of ['claude-x', 'claude-opus-4-7']) {
        for (const [fields, param, code] of cases) {
          const response = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: ask, ...fields }) });
          expect(response.status).toBe(400);
          const { error } = (await response.json()) as { error: Record<string, unknown> };
          expect(error).toMatchObject({ type: 'invalid_request_error', param, code, message: expect.any(String) });
        }
      }
      expect(fake.received.length).toBe(before);
    });
  });

  it('refuses an unknown reasoning_effort and malformed thinking_blocks with a 400 before calling Anthropic', async () => {
    const before = fake.received.length;
    const effort = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], reasoning_effort: 'extreme' as OpenAI.ReasoningEffort }).catch((error: unknown) => error);
    expect(effort).toBeInstanceOf(OpenAI.BadRequestError);
    expect(effort).toMatchObject({ param: 'reasoning_effort', code: 'invalid_value' });
    const blocks = await client.chat.completions
      .create({
        model: 'claude-x',
        messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello', thinking_blocks: [{ type: 'thinking', thinking: 'no signature' }] } as OpenAI.ChatCompletionAssistantMessageParam],
      })
      .catch((error: unknown) => error);
    expect(blocks).toBeInstanceOf(OpenAI.BadRequestError);
    expect(blocks).toMatchObject({ param: 'messages[1].thinking_blocks', code: 'invalid_type' });
    expect(fake.received.length).toBe(before);
  });

  it("streams thinking as reasoning_content deltas and its signature in a thinking_blocks delta, as LiteLLM does", async () => {
    fake.reply({ sse: fixture('anthropic/stream-thinking.sse'), chunkBytes: 9 });
    const chunks = await collectConforming(await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: '27 × 453?' }], reasoning_effort: 'medium', stream: true }));
    expect(fake.last().body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 4096, stream: true });
    type ThinkingDelta = { reasoning_content?: string; thinking_blocks?: Array<Record<string, string>> };
    const deltas = chunks.map((c) => (c.choices[0]?.delta ?? {}) as ThinkingDelta & { content?: string | null });
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe('27 × 453: 27 × 400 = 10800, 27 × 53 = 1431; sum 12231.');
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('27 × 453 = 12231.');
    const blocks = deltas.flatMap((d) => d.thinking_blocks ?? []);
    expect(blocks.filter((b) => b.signature)).toEqual([{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+v1bQzJc1NwVUf0T3rn8yNTkg==' }]);
    expect(blocks.filter((b) => b.type === 'redacted_thinking')).toEqual([{ type: 'redacted_thinking', data: expect.stringMatching(/^EmwK/) }]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('streams text live from events split at awkward places, ending with a usage chunk and [DONE]', async () => {
    fake.reply({ sse: fixture('anthropic/stream-text.sse'), chunkBytes: 5 });
    const chunks = await collectConforming(
      await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } }),
    );
    expect(fake.last().body.stream).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Héllo wörld 🌍!');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 25 + 512, completion_tokens: 15, total_tokens: 25 + 512 + 15, prompt_tokens_details: { cached_tokens: 512, cache_write_tokens: 0 } });
  });

  it('streams tool-call deltas whose argument pieces join into the call', async () => {
    fake.reply({ sse: fixture('anthropic/stream-tool-use.sse'), chunkBytes: 11 });
    const chunks = await collectConforming(await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Weather?' }], tools: [WEATHER_TOOL], stream: true }));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather' } });
    expect(calls.every((call) => call.index === 0)).toBe(true);
    expect(JSON.parse(calls.map((call) => call.function?.arguments ?? '').join(''))).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Let me check the weather.');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('turns an error event mid-stream into an OpenAI error the SDK raises', async () => {
    fake.reply({ sse: fixture('anthropic/stream-overloaded.sse') });
    const stream = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((error: unknown) => error);
    expect(text).toBe('Partial');
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('Overloaded');

    fake.reply({ sse: fixture('anthropic/stream-overloaded.sse') });
    const raw = await fetch(`${router.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], stream: true }) });
    const events = (await raw.text()).split('\n\n').filter((e) => e.startsWith('data: {"error"'));
    expect(events).toHaveLength(1);
  });

  it.each([
    ['error-overloaded.json', 529, 503, 'overloaded_error'],
    ['error-invalid-request.json', 400, 400, 'invalid_request_error'],
    ['error-authentication.json', 401, 401, 'authentication_error'],
    ['error-rate-limit.json', 429, 429, 'rate_limit_error'],
  ])('maps %s (HTTP %i) to an OpenAI error with status %i', async (file, upstreamStatus, status, type) => {
    const body = fixture(`anthropic/${file}`);
    fake.reply({ status: upstreamStatus, json: body });
    const failure = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const error = failure as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(status);
    expect(error.type).toBe(type);
    expect(error.message).toContain((JSON.parse(body) as { error: { message: string } }).error.message);
    assertConforms('ErrorResponse', { error: error.error });
  });

  it('translates an answer the provider compressed unasked, and an error answer so compressed', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json'), gzip: true });
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBeNull();
    const completion = (await response.json()) as OpenAI.ChatCompletion;
    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.usage?.completion_tokens).toBe(16);

    fake.reply({ status: 429, json: fixture('anthropic/error-rate-limit.json'), gzip: true });
    const failure = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('maps an error answer to a streamed request before any chunk', async () => {
    fake.reply({ status: 429, json: fixture('anthropic/error-rate-limit.json') });
    const failure = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }], stream: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.RateLimitError);
    expect(fake.last().body.stream).toBe(true);
  });

  it('refuses embeddings and legacy completions with a 400 without calling Anthropic or blaming it', async () => {
    const before = fake.received.length;
    const embedding = await client.embeddings.create({ model: 'claude-x', input: 'hello' }).catch((error: unknown) => error);
    const completion = await client.completions.create({ model: 'claude-x', prompt: 'hello' }).catch((error: unknown) => error);
    for (const failure of [embedding, completion]) {
      expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
      expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('unsupported_endpoint');
      // The Messages API and Responses API routes work too, so the message must not say chat is all there is.
      expect((failure as Error).message).toContain('supports only /v1/chat/completions, /v1/messages and /v1/responses');
    }
    expect(fake.received.length).toBe(before);
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(stats)).toContain('"healthy":true');
  });

  it('never sent anything but Messages API calls upstream (no health probes)', () => {
    expect(fake.received.every((request) => request.method === 'POST' && request.url === '/v1/messages')).toBe(true);
  });
});
