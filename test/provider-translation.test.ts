import { transformJSONSchema } from '@anthropic-ai/sdk/lib/transform-json-schema';
import { describe, expect, it, vi } from 'vitest';
import { fromAnthropicError } from '../src/providers/anthropic/errors.js';
import { toAnthropicRequest } from '../src/providers/anthropic/request.js';
import { strictSchema } from '../src/providers/anthropic/strict-schema.js';
import { fromAnthropicResponse } from '../src/providers/anthropic/response.js';
import { AnthropicStreamTranslator } from '../src/providers/anthropic/stream.js';
import { toGeminiRequest } from '../src/providers/gemini/request.js';
import { fromGeminiResponse } from '../src/providers/gemini/response.js';
import { GeminiStreamTranslator } from '../src/providers/gemini/stream.js';
import { meetsStrictMode } from '../src/providers/messages/strict-mode.js';
import type { StreamContext, StreamTranslator } from '../src/providers/adapter.js';
import { REDACTED_KEY, withoutKey } from '../src/providers/key-echo.js';
import { SseEventTooLargeError, SseParser } from '../src/providers/sse-parser.js';
import { ApiError } from '../src/server/errors.js';
import { assertConforms } from './support/conformance.js';
import { fixture } from './support/fake-upstream.js';

/** Feeds `bytes` to a fresh translator in the given pieces; `created` is masked so runs compare equal. */
function translate(make: () => StreamTranslator, bytes: Buffer, cuts: number[]): string {
  const translator = make();
  let out = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += translator.push(bytes.subarray(from, cut));
    from = cut;
  }
  return (out + translator.end()).replace(/"created":\d+/g, '"created":0');
}

function events(sse: string): unknown[] {
  return sse
    .split('\n\n')
    .filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
    .map((event) => JSON.parse(event.slice(6)) as unknown);
}

/** A target the router sent no key, with a limit no test event reaches. */
const NO_KEY: StreamContext = { apiKey: undefined, maxEventBytes: 1 << 20, upstreamModel: 'm' };

const chat = (messages: unknown[], extra: Record<string, unknown> = {}) => ({ model: 'm', messages, ...extra });

/** Anthropic's wire form of a list of events. */
const anthropicSse = (list: Array<Record<string, unknown>>) => Buffer.from(list.map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`).join(''));

/** Gemini's wire form of a list of partial responses. */
const geminiSse = (list: unknown[]) => Buffer.from(list.map((response) => `data: ${JSON.stringify(response)}\r\n\r\n`).join(''));

describe('SSE parsing', () => {
  it('yields the same events whatever the chunk boundaries, with CRLF, comments and multi-line data', () => {
    const text = ': comment\r\nevent: a\r\ndata: {"x":\r\ndata: "é🌍"}\r\n\r\ndata: two\n\n';
    const whole = new SseParser().push(Buffer.from(text));
    expect(whole).toEqual([
      { event: 'a', data: '{"x":\n"é🌍"}' },
      { event: undefined, data: 'two' },
    ]);
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new SseParser();
      expect([...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut)), ...parser.end()]).toEqual(whole);
    }
  });

  it('flushes a last event whose blank line never came', () => {
    const parser = new SseParser();
    expect(parser.push(Buffer.from('data: last'))).toEqual([]);
    expect(parser.end()).toEqual([{ event: undefined, data: 'last' }]);
  });

  it('parses an event that arrives in many small chunks, its lines split anywhere', () => {
    const long = 'é'.repeat(5000);
    const bytes = Buffer.from(`event: big\r\ndata: ${long}\r\ndata: {"end":true}\r\n\r\ndata: next\n\n`);
    const parser = new SseParser();
    const parsed = [];
    for (let at = 0; at < bytes.length; at += 3) parsed.push(...parser.push(bytes.subarray(at, at + 3)));
    parsed.push(...parser.end());
    expect(parsed).toEqual([
      { event: 'big', data: `${long}\n{"end":true}` },
      { event: undefined, data: 'next' },
    ]);
  });

  it('searches each character for a line end once, however many chunks an event comes in', () => {
    const bytes = Buffer.from(`data: ${'x'.repeat(20_000)}\n\n`);
    const parser = new SseParser();
    const parsed = [];
    let searched = 0;
    const indexOf = String.prototype.indexOf;
    const spy = vi.spyOn(String.prototype, 'indexOf').mockImplementation(function (this: string, search: string, from?: number) {
      if (search === '\n') searched += this.length - (from ?? 0);
      return indexOf.call(this, search, from);
    });
    try {
      for (let at = 0; at < bytes.length; at += 10) parsed.push(...parser.push(bytes.subarray(at, at + 10)));
    } finally {
      spy.mockRestore();
    }
    expect(parsed).toEqual([{ event: undefined, data: 'x'.repeat(20_000) }]);
    // rescanning what was buffered at every chunk searched 2,000 chunks × ~10,000 characters
    expect(searched).toBeLessThan(2 * bytes.length);
  });

  it('refuses an event longer than its limit, counting each event on its own', () => {
    const event = `data: ${'x'.repeat(90)}\n\n`;
    const parser = new SseParser(100);
    expect(parser.push(Buffer.from(event.repeat(5)))).toHaveLength(5);
    parser.push(Buffer.from('data: ' + 'y'.repeat(50)));
    expect(() => parser.push(Buffer.from('y'.repeat(50)))).toThrow(SseEventTooLargeError);
    // an event of many short lines counts them all
    const lines = new SseParser(100);
    expect(() => lines.push(Buffer.from('data: y\n'.repeat(20)))).toThrow(/longer than 100/);
  });
});

describe('Anthropic stream translation', () => {
  const make = (includeUsage = true) => () => new AnthropicStreamTranslator('claude-x', includeUsage, NO_KEY);

  it.each(['stream-text.sse', 'stream-tool-use.sse', 'stream-thinking.sse'])('gives the same chunks for %s split at any byte, all conforming', (file) => {
    const bytes = Buffer.from(fixture(`anthropic/${file}`));
    const whole = translate(make(), bytes, []);
    expect(whole.endsWith('data: [DONE]\n\n')).toBe(true);
    for (const chunk of events(whole)) assertConforms('CreateChatCompletionStreamResponse', chunk);
    for (let cut = 1; cut < bytes.length; cut += 3) expect(translate(make(), bytes, [cut, Math.min(bytes.length, cut + 2)])).toBe(whole);
    expect(translate(make(), bytes, [...bytes.keys()].slice(1))).toBe(whole);
  });

  it('writes no [DONE] and no usage when the upstream stops before message_stop', () => {
    const text = fixture('anthropic/stream-text.sse');
    const out = translate(make(), Buffer.from(text.slice(0, text.indexOf('event: message_stop'))), []);
    expect(out).not.toContain('[DONE]');
    expect(out).not.toContain('"usage"');
    expect(out).not.toContain('finish_reason":"stop"');
  });

  it('gives a call without parameters the arguments {} (no argument pieces arrive for it)', () => {
    const out = translate(
      make(false),
      anthropicSse([
        { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 5, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'now', input: {} } },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_2', name: 'add', input: {} } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } },
        { type: 'content_block_stop', index: 1 },
        { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
        { type: 'message_stop' },
      ]),
      [],
    );
    const calls = (events(out) as Array<{ choices: Array<{ delta: { tool_calls?: Array<{ index: number; function: { arguments: string } }> } }> }>).flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    const joined = [0, 1].map((index) => calls.filter((call) => call.index === index).map((call) => call.function.arguments).join(''));
    expect(joined).toEqual(['{}', '{"a":1}']);
  });

  it('streams calls of the answer tool as content ({} for one without input), numbers only the other calls, and ends a turn that called no other as stop', () => {
    const answerOnly = (withOtherCall: boolean) =>
      events(
        translate(
          () => new AnthropicStreamTranslator('claude-x', false, NO_KEY, 'json_tool_call'),
          anthropicSse([
            { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 5, output_tokens: 1 } } },
            { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'json_tool_call', input: {} } },
            { type: 'content_block_stop', index: 0 },
            ...(withOtherCall
              ? [
                  { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_2', name: 'add', input: {} } },
                  { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":1}' } },
                  { type: 'content_block_stop', index: 1 },
                ]
              : []),
            { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
            { type: 'message_stop' },
          ]),
          [],
        ),
      ) as Array<{ choices: Array<{ delta: { content?: string; tool_calls?: Array<{ index: number }> }; finish_reason: string | null }> }>;
    for (const withOtherCall of [false, true]) {
      const chunks = answerOnly(withOtherCall);
      expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('{}');
      expect(chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []).map((call) => call.index)).toEqual(withOtherCall ? [0, 0] : []);
      expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual([withOtherCall ? 'tool_calls' : 'stop']);
    }
  });

  it('keeps the usage counts message_start gave when message_delta reports them as null', () => {
    const out = translate(
      make(),
      anthropicSse([
        { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 73, cache_read_input_tokens: 20, cache_creation_input_tokens: 8, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: null, cache_read_input_tokens: null, output_tokens: 4 } },
        { type: 'message_stop' },
      ]),
      [],
    );
    expect((events(out).at(-1) as { usage: unknown }).usage).toEqual({ prompt_tokens: 101, completion_tokens: 4, total_tokens: 105, prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 8 } });
  });

  it('turns an error event into an OpenAI error event and stops there', () => {
    const out = translate(make(), Buffer.from(fixture('anthropic/stream-overloaded.sse') + 'event: ping\ndata: {"type":"ping"}\n\n'), []);
    const last = events(out).at(-1) as { error: { message: string; code: string } };
    expect(last.error).toMatchObject({ message: 'Anthropic: Overloaded', code: 'overloaded_error' });
    expect(out).not.toContain('[DONE]');
  });
});

describe('keys echoed in provider errors', () => {
  const key = 'sk-proj-Q7fXk2LmN9pRtV4wYz8aBcDeFgHiJkLm0123abcd';

  it.each([
    ['the whole key', `Invalid key ${key}.`],
    ["OpenAI's mask", `Incorrect API key provided: sk-proj-${'*'.repeat(120)}abcd. You can find your API key at https://platform.openai.com/account/api-keys.`],
    ['a mask keeping two characters at each end', 'Incorrect API key provided: sk***cd.'],
    ['an ellipsis mask', `Key sk-proj-Q7f...0123abcd was revoked`],
    ['a mask inside JSON', JSON.stringify({ error: { message: 'bad key', key: 'sk-proj-****abcd' } })],
  ])('takes out %s', (_, text) => {
    const scrubbed = withoutKey(text, key);
    expect(scrubbed).toContain(REDACTED_KEY);
    expect(scrubbed).not.toMatch(/abcd|sk-proj-Q7f|sk\*/);
  });

  it.each([
    ['text with an ellipsis', 'Please wait... then retry. Values: 1.5, e.g. sk-***'],
    ["another key's mask", 'Incorrect API key provided: sk-proj-****zzzz.'],
    ["the public prefix every key of the provider has, as a model's text names it", 'Set OPENAI_API_KEY=sk-proj-... (it looks like sk-proj-**** or sk-…)'],
  ])('leaves %s alone', (_, text) => {
    expect(withoutKey(text, key)).toBe(text);
    expect(withoutKey(text, undefined)).toBe(text);
  });

  it("takes the key out of a translated stream's error event", () => {
    const translator = () => new AnthropicStreamTranslator('claude-x', false, { apiKey: key, maxEventBytes: 1 << 20, upstreamModel: 'm' });
    const out = translate(translator, anthropicSse([{ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${key}` } }]), []);
    expect(out).not.toContain(key);
    expect(events(out)).toEqual([{ error: expect.objectContaining({ message: `Anthropic: invalid x-api-key ${REDACTED_KEY}` }) }]);
  });
});

describe('Anthropic request translation', () => {
  it('merges consecutive turns of one role and joins system and developer messages', () => {
    const body = toAnthropicRequest(
      chat([
        { role: 'system', content: 'A' },
        { role: 'developer', content: [{ type: 'text', text: 'B' }] },
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: '' },
        { role: 'assistant', content: 'three' },
      ]),
      'claude-upstream',
      false,
    );
    expect(body).toEqual({
      model: 'claude-upstream',
      system: 'A\n\nB',
      max_tokens: 4096,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'three' }] },
      ],
    });
  });

  it("sends the target's default_max_tokens when the client sets no limit, and the client's own limit otherwise", () => {
    const ask = (extra: Record<string, unknown>) => toAnthropicRequest(chat([{ role: 'user', content: 'x' }], extra), 'm', false, 64_000).max_tokens;
    expect(ask({})).toBe(64_000);
    expect(ask({ max_tokens: null })).toBe(64_000);
    expect(ask({ max_tokens: 100 })).toBe(100);
    expect(ask({ max_completion_tokens: 200 })).toBe(200);
  });

  it('drops parameters Anthropic lacks and fields it does not know', () => {
    const body = toAnthropicRequest(
      chat([{ role: 'user', content: 'x' }], { seed: 1, n: 3, response_format: { type: 'text' }, logprobs: true, made_up: 1, max_tokens: 5, max_completion_tokens: 7, user: 'u1' }),
      'm',
      true,
    );
    expect(body).toEqual({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }], max_tokens: 7, metadata: { user_id: 'u1' }, stream: true });
  });

  it('drops what Anthropic would refuse: whitespace-only stop sequences and empty text parts; caps temperature at its maximum of 1', () => {
    const body = toAnthropicRequest(
      chat([{ role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'x' }] }], { stop: ['\n', ' ', 'END'], temperature: 1.7 }),
      'm',
      false,
    );
    expect(body).toMatchObject({ stop_sequences: ['END'], temperature: 1, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] });
    const onlyBlank = toAnthropicRequest(chat([{ role: 'user', content: 'x' }], { stop: '\n', temperature: 0.3 }), 'm', false);
    expect(onlyBlank).not.toHaveProperty('stop_sequences');
    expect(onlyBlank.temperature).toBe(0.3);
  });

  it('reads data: URLs that carry parameters before ;base64', () => {
    const body = toAnthropicRequest(chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;name=a.png;base64,iVBORw0K' } }] }]), 'm', false);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' } }] }]);
  });

  it.each([
    ['auto', true, { type: 'auto', disable_parallel_tool_use: true }],
    [undefined, true, { type: 'auto', disable_parallel_tool_use: true }],
    ['none', true, { type: 'none' }],
    [{ type: 'function', function: { name: 'f' } }, false, { type: 'tool', name: 'f' }],
  ])('maps tool_choice %j (serial only: %s)', (toolChoice, serial, expected) => {
    const body = toAnthropicRequest(chat([{ role: 'user', content: 'x' }], { tool_choice: toolChoice, parallel_tool_calls: serial ? false : undefined }), 'm', false);
    expect(body.tool_choice).toEqual(expected);
  });

  it.each([
    ['an unknown role', [{ role: 'function', content: 'x' }], 'role'],
    ['tool-call arguments that are not JSON', [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{oops' } }] }], 'arguments'],
    ['an audio part', [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }], 'input_audio'],
    ['an image in a system message', [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }], 'images'],
  ])('refuses %s with a 400', (_, messages, text) => {
    let error: unknown;
    try {
      toAnthropicRequest(chat(messages), 'm', false);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain(text);
  });
});

describe("structured output schemas for Anthropic's constrained decoding (strict-schema.ts)", () => {
  const contact = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    description: 'A contact',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 40, description: 'Full name' },
      email: { type: 'string', format: 'email', pattern: '^[^@]+@[^@]+$' },
      phone: { type: 'string', format: 'phone' },
      age: { type: 'integer', minimum: 18, exclusiveMaximum: 120, multipleOf: 1 },
      tags: { type: 'array', items: { type: 'string', maxLength: 10 }, minItems: 1, maxItems: 3, uniqueItems: true },
      visits: { type: 'array', items: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } }, required: ['at'] }, minItems: 2 },
      address: { type: 'object', properties: { city: { type: 'string' } }, minProperties: 1 },
    },
    required: ['name', 'email', 'age'],
  };

  it('keeps what Anthropic decodes to, closes every object, and describes the rest where the model reads it', () => {
    expect(strictSchema(contact)).toEqual({
      type: 'object',
      description: 'A contact',
      properties: {
        name: { type: 'string', description: 'Full name\n\n{minLength: 1, maxLength: 40}' },
        email: { type: 'string', format: 'email', description: '{pattern: "^[^@]+@[^@]+$"}' },
        phone: { type: 'string', description: '{format: "phone"}' },
        age: { type: 'integer', description: '{minimum: 18, exclusiveMaximum: 120, multipleOf: 1}' },
        tags: { type: 'array', items: { type: 'string', description: '{maxLength: 10}' }, minItems: 1, description: '{maxItems: 3, uniqueItems: true}' },
        visits: { type: 'array', items: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } }, required: ['at'], additionalProperties: false }, description: '{minItems: 2}' },
        address: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false, description: '{minProperties: 1}' },
      },
      required: ['name', 'email', 'age'],
      additionalProperties: false,
    });
    // Anthropic's own SDK rewrites a schema it can read the same way.
    const typed = { type: 'object', properties: { name: contact.properties.name, age: contact.properties.age, visits: contact.properties.visits }, required: ['name'] };
    expect(strictSchema(typed)).toEqual(transformJSONSchema(typed));
  });

  it('makes oneOf anyOf, rewrites every variant and definition, and sends a reference alone with its definitions', () => {
    const point = { type: 'object', properties: { x: { type: 'number', minimum: 0 } } };
    expect(strictSchema({ type: 'object', properties: { at: { oneOf: [point, { type: 'null' }] }, both: { allOf: [point] }, either: { anyOf: [point], oneOf: [{ type: 'string' }] } } })).toEqual({
      type: 'object',
      properties: {
        at: { anyOf: [{ type: 'object', properties: { x: { type: 'number', description: '{minimum: 0}' } }, additionalProperties: false }, { type: 'null' }] },
        both: { allOf: [{ type: 'object', properties: { x: { type: 'number', description: '{minimum: 0}' } }, additionalProperties: false }] },
        // beside an anyOf, the oneOf cannot take its name
        either: { anyOf: [{ type: 'object', properties: { x: { type: 'number', description: '{minimum: 0}' } }, additionalProperties: false }], description: '{oneOf: [{"type":"string"}]}' },
      },
      additionalProperties: false,
    });
    const closedPoint = { type: 'object', properties: { x: { type: 'number', description: '{minimum: 0}' } }, additionalProperties: false };
    expect(strictSchema({ $ref: '#/$defs/point', $defs: { point } })).toEqual({ $ref: '#/$defs/point', $defs: { point: closedPoint } });
    expect(strictSchema({ type: 'object', properties: { p: { $ref: '#/definitions/point' } }, definitions: { point } })).toEqual({
      type: 'object', properties: { p: { $ref: '#/definitions/point' } }, definitions: { point: closedPoint }, additionalProperties: false,
    });
    // another document's reference, which Anthropic refuses, is its to judge
    expect(strictSchema({ type: 'object', properties: { p: { $ref: 'https://example.com/point.json', description: 'A point' } } })).toEqual({
      type: 'object', properties: { p: { $ref: 'https://example.com/point.json' } }, additionalProperties: false,
    });
  });

  it("replaces a reference with keywords beside it by the schema it refers to, the keywords over it, so that neither is lost (Pydantic's described model field)", () => {
    const point = { type: 'object', description: 'A point', properties: { x: { type: 'number' } }, required: ['x'] };
    const closedPoint = { type: 'object', description: 'A point', properties: { x: { type: 'number' } }, required: ['x'], additionalProperties: false };
    expect(strictSchema({
      type: 'object',
      properties: {
        from: { $ref: '#/$defs/Point', description: 'Where it starts' },
        to: { $ref: '#/$defs/Point', title: 'To', default: { x: 0 } },
        via: { $ref: '#/$defs/Via', description: 'Stops' },
        plain: { $ref: '#/$defs/Point' },
      },
      $defs: { Point: point, Via: { $ref: '#/$defs/Points', minItems: 1 }, Points: { type: 'array', items: { $ref: '#/$defs/Point' }, maxItems: 3 } },
    })).toEqual({
      type: 'object',
      properties: {
        from: { ...closedPoint, description: 'Where it starts' },
        to: { ...closedPoint, title: 'To', description: 'A point\n\n{default: {"x":0}}' },
        via: { type: 'array', items: { $ref: '#/$defs/Point' }, minItems: 1, description: 'Stops\n\n{maxItems: 3}' },
        plain: { $ref: '#/$defs/Point' },
      },
      $defs: { Point: closedPoint, Via: { type: 'array', items: { $ref: '#/$defs/Point' }, minItems: 1, description: '{maxItems: 3}' }, Points: { type: 'array', items: { $ref: '#/$defs/Point' }, description: '{maxItems: 3}' } },
      additionalProperties: false,
    });
    // at the root, with the definitions it refers into, as zod writes a named schema
    expect(strictSchema({ $ref: '#/definitions/Point', definitions: { Point: point }, description: 'The answer' })).toEqual({ ...closedPoint, description: 'The answer', definitions: { Point: closedPoint } });
  });

  it("replaces a reference among an allOf's schemas, which Anthropic refuses there, by the schema it refers to; one that leads out of the document asks through the answer tool", () => {
    const named = { type: 'object', properties: { name: { type: 'string', maxLength: 40 } }, required: ['name'] };
    const closedNamed = { type: 'object', properties: { name: { type: 'string', description: '{maxLength: 40}' } }, required: ['name'], additionalProperties: false };
    const schema = {
      type: 'object',
      properties: { who: { allOf: [{ $ref: '#/$defs/Named' }, { $ref: '#/$defs/Alias', description: 'Also known as' }, { type: 'object', properties: { age: { type: 'integer' } } }] } },
      required: ['who'],
      $defs: { Named: named, Alias: { $ref: '#/$defs/Named' } },
    };
    expect(strictSchema(schema)).toEqual({
      type: 'object',
      properties: { who: { allOf: [closedNamed, { ...closedNamed, description: 'Also known as' }, { type: 'object', properties: { age: { type: 'integer' } }, additionalProperties: false }] } },
      required: ['who'],
      // elsewhere a reference alone is Anthropic's to follow
      $defs: { Named: closedNamed, Alias: { $ref: '#/$defs/Named' } },
      additionalProperties: false,
    });
    const elsewhere = { type: 'object', properties: { who: { allOf: [{ $ref: 'https://example.com/named.json' }] } } };
    expect(strictSchema(elsewhere)).toBeUndefined();
    const sent = toAnthropicRequest(chat([{ role: 'user', content: 'x' }], { response_format: { type: 'json_schema', json_schema: { name: 'who', schema: elsewhere } } }), 'claude-sonnet-4-5-20250929', false);
    expect(sent).not.toHaveProperty('output_config');
    expect(sent.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: elsewhere }]);
    // copied within the same bounds: each level's allOf refers to the next twice, 2^40 objects copied whole
    const levels = 40;
    const $defs = Object.fromEntries(Array.from({ length: levels }, (_, level) => [`L${level}`, level === levels - 1 ? { type: 'string' } : { allOf: [{ $ref: `#/$defs/L${level + 1}` }, { $ref: `#/$defs/L${level + 1}` }] }]));
    expect(strictSchema({ type: 'object', properties: { top: { $ref: '#/$defs/L0' } }, $defs })).toBeUndefined();
  });

  it('gives no schema, quickly, where copying what references with keywords beside them refer to would grow without bound', () => {
    // each level refers to the next twice with a description: copied whole, 2^40 objects
    const levels = 40;
    const $defs = Object.fromEntries(Array.from({ length: levels }, (_, level) => [`L${level}`, level === levels - 1
      ? { type: 'string' }
      : { type: 'object', properties: { a: { $ref: `#/$defs/L${level + 1}`, description: 'a' }, b: { $ref: `#/$defs/L${level + 1}`, description: 'b' } } }]));
    expect(strictSchema({ type: 'object', properties: { top: { $ref: '#/$defs/L0', description: 'top' } }, $defs })).toBeUndefined();
    // a chain of references as long as a body allows, followed without exhausting the call stack
    const chain = (length: number, link: (next: string) => Record<string, unknown>) => ({
      type: 'object',
      properties: { top: { $ref: '#/$defs/C0', description: 'top' } },
      $defs: Object.fromEntries(Array.from({ length }, (_, at) => [`C${at}`, at === length - 1 ? { type: 'string' } : link(`#/$defs/C${at + 1}`)])),
    });
    expect(strictSchema(chain(20_000, ($ref) => ({ $ref, description: 'next' })))).toBeUndefined();
    expect(strictSchema(chain(20_000, ($ref) => ({ type: 'object', properties: { next: { $ref } } })))).toBeDefined();
    // few objects copied, each as large as a body allows: a long enum, copied some 800 times (fewer objects than COPIED_PARTS)
    const wide = Object.fromEntries(Array.from({ length: 9 }, (_, level) => [`W${level}`, level === 8
      ? { enum: Array.from({ length: 20_000 }, (_, at) => `value ${at}`) }
      : { type: 'object', properties: { a: { $ref: `#/$defs/W${level + 1}`, description: 'a' }, b: { $ref: `#/$defs/W${level + 1}`, description: 'b' } } }]));
    expect(strictSchema({ type: 'object', properties: { top: { $ref: '#/$defs/W0', description: 'top' } }, $defs: wide })).toBeUndefined();
    // an allOf's reference to a reference, each with a keyword of its own: each step copies the keywords gathered so far again
    // (kept under a keyword that is only described, where no other rewrite follows the chain)
    const gathering = Object.fromEntries(Array.from({ length: 5_001 }, (_, at) => [`G${at}`, at === 5_000 ? { type: 'string' } : { $ref: `#/x-chain/G${at + 1}`, [`x-${at}`]: at }]));
    expect(strictSchema({ type: 'object', properties: { top: { allOf: [{ $ref: '#/x-chain/G0' }] } }, 'x-chain': gathering })).toBeUndefined();
    // a few levels copy fine
    const few = { type: 'object', properties: { top: { $ref: '#/$defs/L37', description: 'top' } }, $defs: Object.fromEntries(Object.entries($defs).slice(37)) };
    expect(strictSchema(few)?.properties).toEqual({ top: { type: 'object', description: 'top', additionalProperties: false, properties: {
      a: { type: 'object', description: 'a', additionalProperties: false, properties: { a: { type: 'string', description: 'a' }, b: { type: 'string', description: 'b' } } },
      b: { type: 'object', description: 'b', additionalProperties: false, properties: { a: { type: 'string', description: 'a' }, b: { type: 'string', description: 'b' } } },
    } } });
  });

  it('gives no schema where no rewrite keeps its meaning: an object that takes properties it does not list (a map), or a schema that refers to itself', () => {
    const entry = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    for (const schema of [
      { type: 'object', properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } } },
      { type: 'object', properties: { extra: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true } } },
      { type: 'object', properties: { any: { type: 'object', additionalProperties: {} } } },
      { type: 'object', properties: { byName: { type: 'object', patternProperties: { '^[a-z]+$': entry } } } },
      { type: 'object', properties: { m: { $ref: '#/$defs/Map' } }, $defs: { Map: { type: 'object', additionalProperties: entry } } },
      { type: 'object', properties: { list: { type: 'array', items: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'null' }] } } } },
      { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } } },
      { type: 'object', properties: { root: { $ref: '#/$defs/Node' } }, $defs: { Node: { type: 'object', properties: { next: { anyOf: [{ $ref: '#/$defs/Node' }, { type: 'null' }] } } } } },
      { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'object', properties: { b: { $ref: '#/$defs/B' } } }, B: { type: 'array', items: { $ref: '#/$defs/A' } } } },
      { type: 'object', properties: { tree: { type: 'object', properties: { left: { $ref: '#/properties/tree' } } } } },
      { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { $ref: '#/$defs/B' }, B: { $ref: '#/$defs/A' } } },
    ]) {
      expect(strictSchema(schema), JSON.stringify(schema)).toBeUndefined();
    }
    // a definition used twice, or a reference to a sibling, is no recursion
    const twice = { type: 'object', properties: { a: { $ref: '#/$defs/E' }, b: { type: 'array', items: { $ref: '#/$defs/E' } }, c: { $ref: '#/properties/a' } }, $defs: { E: entry } };
    expect(strictSchema(twice)).toMatchObject({ properties: { a: { $ref: '#/$defs/E' }, c: { $ref: '#/properties/a' } } });
    expect(strictSchema({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false })).toBeDefined();
  });

  it('keeps an enum or const of plain values without the type, as the SDK does, and describes others', () => {
    expect(strictSchema({ type: 'object', properties: {
      kind: { type: 'string', enum: ['a', 'b', null] },
      fixed: { type: 'integer', const: 3 },
      shapes: { type: 'array', enum: [[1], [2]] },
      none: { type: 'string', enum: [] },
      whole: { type: 'object', const: { a: 1 } },
    } })?.properties).toEqual({
      kind: { enum: ['a', 'b', null] },
      fixed: { const: 3 },
      shapes: { type: 'array', description: '{enum: [[1],[2]]}' },
      none: { type: 'string', description: '{enum: []}' },
      whole: { type: 'object', additionalProperties: false, description: '{const: {"a":1}}' },
    });
  });

  it('closes objects of a type list or without a type, and sends what it cannot read as sent, without throwing', () => {
    expect(strictSchema({ type: ['object', 'null'], properties: { a: { type: 'string' } } })).toEqual({ type: ['object', 'null'], properties: { a: { type: 'string' } }, additionalProperties: false });
    expect(strictSchema({ properties: { a: true, b: false, c: null, d: 'string' } })).toEqual({ properties: { a: true, b: false, c: null, d: 'string' }, additionalProperties: false });
    expect(strictSchema({ type: 'array', items: [{ type: 'string', maxLength: 2 }, true], prefixItems: [{ type: 'string' }] })).toEqual({ type: 'array', items: [{ type: 'string', maxLength: 2 }, true], description: '{prefixItems: [{"type":"string"}]}' });
    expect(strictSchema({ type: 'object', properties: 5, anyOf: 'x', oneOf: null, $defs: [] })).toEqual({ type: 'object', properties: 5, anyOf: 'x', description: '{oneOf: null}', $defs: [], additionalProperties: false });
    expect(strictSchema({ type: 'string', description: 7, title: 'T', minLength: 1 })).toEqual({ type: 'string', title: 'T', description: '{description: 7, minLength: 1}' });
    expect(strictSchema({})).toEqual({});
    const proto = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string","maxLength":3}},"__proto__":{"x":1}}') as Record<string, unknown>;
    const sent = strictSchema(proto)!;
    expect(Object.keys(sent.properties as object)).toEqual(['__proto__']);
    expect(JSON.stringify(sent)).toBe('{"type":"object","properties":{"__proto__":{"type":"string","description":"{maxLength: 3}"}},"additionalProperties":false,"description":"{__proto__: {\\"x\\":1}}"}');
  });

  it('asks Claude 4.5 and later for a schema no rewrite keeps through the answer tool, the schema as sent, and sends such a strict tool not strict', () => {
    const labels = { type: 'object', properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } }, required: ['labels'] };
    const body = chat([{ role: 'user', content: 'x' }], { response_format: { type: 'json_schema', json_schema: { name: 'labels', schema: labels } }, tools: [{ type: 'function', function: { name: 'tag', parameters: labels, strict: true } }] });
    const sent = toAnthropicRequest(body, 'claude-sonnet-4-5-20250929', false);
    expect(sent).not.toHaveProperty('output_config');
    expect(sent.tools).toEqual([{ name: 'tag', input_schema: labels }, { name: 'json_tool_call', description: expect.any(String), input_schema: labels }]);
  });

  it("builds a new schema for Claude 4.5 and later, leaving the client's body as it came, and sends the older models' answer tool the schema as sent", () => {
    const body = chat([{ role: 'user', content: 'x' }], { response_format: { type: 'json_schema', json_schema: { name: 'contact', schema: contact } } });
    const before = JSON.stringify(body);
    const structured = toAnthropicRequest(body, 'claude-sonnet-4-5-20250929', false) as { output_config: { format: { schema: unknown } } };
    expect(structured.output_config.format).toEqual({ type: 'json_schema', schema: strictSchema(contact) });
    expect(JSON.stringify(body)).toBe(before);
    const older = toAnthropicRequest(body, 'claude-sonnet-4-20250514', false) as { tools: Array<{ input_schema: unknown }> };
    expect(older.tools[0]!.input_schema).toBe(contact);
  });
});

describe("OpenAI's strict mode for a Messages client's schema (strict-mode.ts)", () => {
  const closed = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({ type: 'object', properties, required, additionalProperties: false });

  it('takes a schema whose every object is closed and requires all its properties, through items, unions and definitions', () => {
    const item = closed({ name: { type: 'string' }, size: { anyOf: [{ type: 'number' }, { type: 'null' }] } });
    expect(meetsStrictMode(closed({ items: { type: 'array', items: item }, pick: { anyOf: [item, { $ref: '#/$defs/d' }] }, free: closed({}) }))).toBe(true);
    expect(meetsStrictMode({ ...closed({ d: { $ref: '#/$defs/d' } }), $defs: { d: item } })).toBe(true);
    expect(meetsStrictMode({ type: 'object', additionalProperties: false })).toBe(true);
  });

  it('refuses optional properties and open objects anywhere, a root that is no object, keywords strict mode refuses, and parts it cannot read', () => {
    const item = closed({ name: { type: 'string' }, note: { type: 'string' } }, ['name']);
    const open = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    for (const schema of [
      closed({ a: { type: 'string' } }, ['b']),
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
      closed({ list: { type: 'array', items: item } }),
      closed({ list: { type: 'array', items: [item] } }),
      closed({ pick: { anyOf: [{ type: 'string' }, item] } }),
      closed({ pick: { oneOf: [open] } }),
      { ...closed({ d: { $ref: '#/$defs/d' } }), $defs: { d: item } },
      { ...closed({ d: { $ref: '#/definitions/d' } }), definitions: { d: open } },
      { ...closed({}), additionalProperties: true },
      { ...closed({}), additionalProperties: { type: 'string' } },
      closed({ nested: { properties: { a: { type: 'string' } }, required: ['a'] } }),
      closed({ both: { allOf: [closed({})] } }),
      closed({ never: { not: { type: 'string' } } }),
      // keywords of objects and arrays strict mode does not take (its guide's lists), where they are
      { ...closed({ name: { type: 'string' } }), patternProperties: { '^x-': { type: 'string' } } },
      closed({ tags: { ...closed({}), propertyNames: { pattern: '^[a-z]+$' } } }),
      closed({ tags: { ...closed({}), minProperties: 1 } }),
      closed({ tags: { ...closed({}), maxProperties: 3 } }),
      closed({ tags: { ...closed({}), unevaluatedProperties: false } }),
      closed({ list: { type: 'array', items: { type: 'string' }, uniqueItems: true } }),
      closed({ list: { type: 'array', items: { type: 'string' }, contains: { const: 'a' }, minContains: 1, maxContains: 2 } }),
      closed({ list: { type: 'array', items: { type: 'string' }, unevaluatedItems: false } }),
      closed({ anything: true }),
      // OpenAI's SDK unravels such a reference before it sends a schema strict
      { ...closed({ d: { $ref: '#/$defs/d', description: 'The d' } }), $defs: { d: closed({}) } },
      { anyOf: [closed({})] },
      { type: 'string' },
      null, 'object', [], true,
      closed({ odd: { type: 'array', items: null } }),
      { ...closed({}), properties: 5 },
    ]) {
      expect(meetsStrictMode(schema), JSON.stringify(schema)).toBe(false);
    }
  });
});

describe('reasoning_effort', () => {
  const anthropic = (extra: Record<string, unknown>, defaultMaxTokens?: number, model = 'claude-sonnet-4-5-20250929') =>
    toAnthropicRequest(chat([{ role: 'user', content: 'x' }], extra), model, false, defaultMaxTokens);
  const gemini = (effort: string, model: string) => toGeminiRequest(chat([{ role: 'user', content: 'x' }], { reasoning_effort: effort }), model).generationConfig;

  it.each([
    ['minimal', 1024],
    ['low', 1024],
    ['medium', 2048],
    ['high', 4096],
    ['xhigh', 8192],
    ['max', 16384],
  ])("%s is LiteLLM's Anthropic thinking budget %i for a model before adaptive thinking (minimal raised to Anthropic's least)", (effort, budget) => {
    expect(anthropic({ reasoning_effort: effort })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: budget } });
    expect(anthropic({ reasoning_effort: effort })).not.toHaveProperty('output_config');
  });

  it.each([
    ['claude-opus-4-7', 'high', 'high'],
    ['claude-opus-4-6', 'minimal', 'low'],
    ['claude-sonnet-4-6', 'medium', 'medium'],
    ['claude-opus-5', 'xhigh', 'xhigh'],
    ['claude-haiku-5-5', 'low', 'low'],
    ['claude-mythos-preview', 'max', 'max'],
    ['claude-fable-5', 'high', 'high'],
  ])('%s, which thinks adaptively (the newest refuse a fixed budget), gets adaptive thinking at %s as effort %s, max_tokens untouched', (model, effort, level) => {
    const sent = anthropic({ reasoning_effort: effort, max_tokens: 100 }, undefined, model);
    expect(sent).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: level }, max_tokens: 100 });
    expect(anthropic({ reasoning_effort: 'none' }, undefined, model)).not.toHaveProperty('output_config');
  });

  it.each(['claude-opus-4-5-20251101', 'claude-sonnet-4-20250514', 'claude-3-7-sonnet-20250219', 'claude-haiku-4-5', 'claude-opus-4-1'])('%s, before adaptive thinking, gets a budget', (model) => {
    expect(anthropic({ reasoning_effort: 'high' }, undefined, model).thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
  });

  it("keeps Anthropic's max_tokens above the thinking budget: a limit not above it is raised by the budget, a larger one stays", () => {
    expect(anthropic({ reasoning_effort: 'high' }).max_tokens).toBe(4096 + 4096);
    expect(anthropic({ reasoning_effort: 'high' }, 64_000).max_tokens).toBe(64_000);
    expect(anthropic({ reasoning_effort: 'medium', max_tokens: 2048 }).max_tokens).toBe(2048 + 2048);
    expect(anthropic({ reasoning_effort: 'medium', max_tokens: 2049 }).max_tokens).toBe(2049);
    expect(anthropic({ thinking: { type: 'enabled', budget_tokens: 8000 }, max_completion_tokens: 500 }).max_tokens).toBe(8500);
    expect(anthropic({ thinking: { type: 'disabled' }, max_tokens: 10 })).toMatchObject({ thinking: { type: 'disabled' }, max_tokens: 10 });
    expect(anthropic({ reasoning_effort: 'none', max_tokens: 10 })).toEqual(expect.not.objectContaining({ thinking: expect.anything() }));
  });

  it.each([
    ['gemini-2.5-flash', 'none', { thinkingBudget: 0 }],
    ['gemini-2.5-pro', 'minimal', { thinkingBudget: 1024, includeThoughts: true }],
    // 2.5 Pro cannot stop thinking and refuses a budget of 0: the least it takes
    ['gemini-2.5-pro', 'none', { thinkingBudget: 128 }],
    ['gemini-2.5-flash-lite', 'high', { thinkingBudget: 24576, includeThoughts: true }],
    ['gemini-3-flash-preview', 'minimal', { thinkingLevel: 'minimal', includeThoughts: true }],
    ['gemini-3-flash-preview', 'medium', { thinkingLevel: 'medium', includeThoughts: true }],
    ['gemini-3-flash-preview', 'none', { thinkingLevel: 'minimal' }],
    ['gemini-3-pro-preview', 'minimal', { thinkingLevel: 'low', includeThoughts: true }],
    ['gemini-3.1-pro-preview', 'medium', { thinkingLevel: 'high', includeThoughts: true }],
    ['gemini-3-pro-preview', 'none', { thinkingLevel: 'low' }],
    ['gemini-3-flash-preview', 'max', { thinkingLevel: 'high', includeThoughts: true }],
    ['gemini-2.5-flash', 'xhigh', { thinkingBudget: 24576, includeThoughts: true }],
  ])("%s at %s gets Google's own thinkingConfig %j", (model, effort, config) => {
    expect(gemini(effort, model)).toEqual({ thinkingConfig: config });
  });

  it("takes Anthropic's thinking parameter for Gemini too, as LiteLLM does, over reasoning_effort", () => {
    const config = (thinking: unknown) => toGeminiRequest(chat([{ role: 'user', content: 'x' }], { thinking, reasoning_effort: 'high' }), 'gemini-2.5-pro').generationConfig;
    expect(config({ type: 'enabled', budget_tokens: 3000 })).toEqual({ thinkingConfig: { thinkingBudget: 3000, includeThoughts: true } });
    // off as an effort of none is: the least 2.5 Pro and Gemini 3 take, none on 2.5 Flash
    expect(config({ type: 'disabled' })).toEqual({ thinkingConfig: { thinkingBudget: 128 } });
    const disabledOn = (model: string) => toGeminiRequest(chat([{ role: 'user', content: 'x' }], { thinking: { type: 'disabled' }, reasoning_effort: 'high' }), model).generationConfig;
    expect(disabledOn('gemini-2.5-flash')).toEqual({ thinkingConfig: { thinkingBudget: 0 } });
    expect(disabledOn('gemini-3-pro-preview')).toEqual({ thinkingConfig: { thinkingLevel: 'low' } });
  });

  it('leaves the thinking settings to the model when the client sets no effort, and refuses an unknown effort with a 400', () => {
    expect(anthropic({})).not.toHaveProperty('thinking');
    expect(toGeminiRequest(chat([{ role: 'user', content: 'x' }]), 'gemini-2.5-flash')).not.toHaveProperty('generationConfig');
    const geminiWithThinking = () => toGeminiRequest(chat([{ role: 'user', content: 'x' }], { thinking: { type: 'enabled', budget_tokens: 3000 }, reasoning_effort: 'ultra' }), 'gemini-2.5-pro');
    const anthropicWithThinking = () => anthropic({ thinking: { type: 'enabled', budget_tokens: 3000 }, reasoning_effort: 'ultra' });
    for (const translate of [() => anthropic({ reasoning_effort: 'extreme' }), () => gemini('ultra', 'gemini-3-pro-preview'), () => anthropic({ reasoning_effort: { toString: 1 } }), geminiWithThinking, anthropicWithThinking]) {
      expect(thrownBy(translate)).toMatchObject({ status: 400, param: 'reasoning_effort', code: 'invalid_value' });
    }
  });
});

describe('malformed tool calls in the history', () => {
  it.each([
    ['tool_calls that is not an array', 'x'],
    ['a tool call that is null', [null]],
    ['a tool call without a function', [{ id: 'a', type: 'function' }]],
    ['a tool call whose function has no name', [{ id: 'a', type: 'function', function: { arguments: '{}' } }]],
  ])('are refused with a 400 for both translated providers: %s', (_, toolCalls) => {
    const body = chat([{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: toolCalls }]);
    for (const translate of [() => toAnthropicRequest(body, 'm', false), () => toGeminiRequest(body, 'gemini-2.5-flash')]) {
      expect(thrownBy(translate)).toMatchObject({ status: 400, param: 'messages[1].tool_calls' });
    }
  });
});

describe('client values that String() cannot convert', () => {
  it('a content part type or tool_call_id that is an object with a toString key is refused with a 400 naming it', () => {
    const odd = { toString: 1 };
    const badPart = chat([{ role: 'user', content: [{ type: odd }] }]);
    const badToolId = chat([{ role: 'tool', tool_call_id: odd, content: 'x' }]);
    for (const translate of [() => toAnthropicRequest(badPart, 'm', false), () => toGeminiRequest(badPart, 'gemini-2.5-flash'), () => toGeminiRequest(badToolId, 'gemini-2.5-flash')]) {
      expect(thrownBy(translate).message).toContain('{"toString":1}');
    }
  });
});

/** The ApiError `translate` throws (fails the test when it throws nothing, or something else). */
function thrownBy(translate: () => unknown): ApiError {
  try {
    translate();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected the translation to refuse the request');
}

describe('Anthropic response translation', () => {
  const message = (stopReason: string) => Buffer.from(JSON.stringify({ id: 'msg_1', content: [{ type: 'text', text: 'x' }], stop_reason: stopReason, usage: { input_tokens: 1, output_tokens: 2 } }));

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['constructor', 'stop'],
  ])('maps stop_reason %s to finish_reason %s', (stopReason, finish) => {
    const { status, body } = fromAnthropicResponse(200, message(stopReason), 'claude-x');
    expect(status).toBe(200);
    const completion = JSON.parse(body) as { choices: Array<{ finish_reason: string }> };
    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.choices[0]!.finish_reason).toBe(finish);
  });

  it('answers 502 when a 200 body is not a message', () => {
    expect(fromAnthropicResponse(200, Buffer.from('<html>'), 'claude-x').status).toBe(502);
  });

  it('reads a message whose content holds blocks that are no objects, rather than throwing (a 500)', () => {
    const body = Buffer.from(JSON.stringify({ id: 'msg_1', content: [null, 5, { type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }));
    const { status, body: completion } = fromAnthropicResponse(200, body, 'claude-x');
    expect([status, JSON.parse(completion).choices[0].message.content]).toEqual([200, 'hi']);
  });

  it.each([
    [403, '{"type":"error","error":{"type":"permission_error","message":"no"}}', 403, 'permission_error'],
    [404, '{"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}}', 404, 'not_found_error'],
    [500, '{"type":"error","error":{"type":"api_error","message":"boom"}}', 500, 'api_error'],
    [529, 'upstream connect error', 503, 'api_error'],
    [413, '', 413, 'invalid_request_error'],
  ])('maps an HTTP %i error body %s to status %i', (status, body, expected, type) => {
    const answer = fromAnthropicError(status, body);
    expect(answer.status).toBe(expected);
    const parsed = JSON.parse(answer.body) as { error: { type: string; message: string } };
    assertConforms('ErrorResponse', parsed);
    expect(parsed.error.type).toBe(type);
  });
});

describe('Gemini translation', () => {
  it.each([
    ['MAX_TOKENS', 'length'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['LANGUAGE', 'content_filter'],
    ['IMAGE_PROHIBITED_CONTENT', 'content_filter'],
    ['OTHER', 'stop'],
    ['NO_IMAGE', 'stop'],
    ['SOME_FUTURE_REASON', 'stop'],
    // a name every object has: the tables are maps, not object literals
    ['constructor', 'stop'],
  ])('maps finishReason %s to %s', (reason, finish) => {
    const body = Buffer.from(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: reason }] }));
    expect((JSON.parse(fromGeminiResponse(200, body, 'g').body) as { choices: Array<{ finish_reason: string }> }).choices[0]!.finish_reason).toBe(finish);
  });

  it.each([
    ['MALFORMED_FUNCTION_CALL', 502, 'invalid function call'],
    ['UNEXPECTED_TOOL_CALL', 502, 'did not offer'],
    ['TOO_MANY_TOOL_CALLS', 502, 'too many tool calls'],
    ['MALFORMED_RESPONSE', 502, 'malformed response'],
    ['MISSING_THOUGHT_SIGNATURE', 400, 'thought_signature'],
  ])('answers finishReason %s, which leaves no usable answer, with an error %i rather than a normal-looking stop', (reason, status, text) => {
    const body = Buffer.from(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Let me call' }] }, finishReason: reason, finishMessage: 'Malformed function call: print(x' }] }));
    const answer = fromGeminiResponse(200, body, 'g');
    expect(answer.status).toBe(status);
    const parsed = JSON.parse(answer.body) as { error: { message: string; code: string } };
    assertConforms('ErrorResponse', parsed);
    expect(parsed.error.code).toBe(reason.toLowerCase());
    expect(parsed.error.message).toContain(text);
    expect(parsed.error.message).toContain('Malformed function call: print(x');
  });

  it('ends a stream whose candidate made a malformed function call with an error event, not a finish reason or [DONE]', () => {
    const out = translate(
      () => new GeminiStreamTranslator('gemini-x', true, NO_KEY),
      geminiSse([
        { responseId: 'r', candidates: [{ content: { parts: [{ text: 'Calling' }] } }] },
        { responseId: 'r', candidates: [{ content: { parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL' }] },
      ]),
      [],
    );
    const chunks = events(out) as Array<{ choices?: Array<{ finish_reason: string | null }>; error?: { code: string } }>;
    expect(chunks.at(-1)!.error).toMatchObject({ code: 'malformed_function_call' });
    expect(chunks.flatMap((chunk) => chunk.choices ?? []).filter((choice) => choice.finish_reason)).toEqual([]);
    expect(out).not.toContain('[DONE]');
  });

  it('asks for JSON output and drops what Gemini lacks', () => {
    const body = toGeminiRequest(chat([{ role: 'user', content: 'x' }], { response_format: { type: 'json_object' }, logit_bias: {}, user: 'u', seed: 3 }), 'gemini-2.5-flash');
    expect(body.generationConfig).toEqual({ responseMimeType: 'application/json', seed: 3 });
  });

  it('answers 502 when Gemini gives no candidates and no block reason', () => {
    const answer = fromGeminiResponse(200, Buffer.from(JSON.stringify({ usageMetadata: { promptTokenCount: 3 } })), 'g');
    expect(answer.status).toBe(502);
    assertConforms('ErrorResponse', JSON.parse(answer.body));
  });

  it('gives function calls of different candidates different ids when Gemini names none', () => {
    const call = { content: { parts: [{ functionCall: { name: 'f', args: {} } }] }, finishReason: 'STOP' };
    const body = Buffer.from(JSON.stringify({ responseId: 'r', candidates: [{ ...call, index: 0 }, { ...call, index: 1 }] }));
    const completion = JSON.parse(fromGeminiResponse(200, body, 'g').body) as { choices: Array<{ message: { tool_calls: Array<{ id: string }> } }> };
    const ids = completion.choices.map((choice) => choice.message.tool_calls[0]!.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('ends a stream of several candidates only once every candidate has finished', () => {
    const make = () => new GeminiStreamTranslator('gemini-x', false, NO_KEY);
    const candidate = (index: number, text: string, finishReason?: string) => ({ index, content: { parts: [{ text }] }, ...(finishReason && { finishReason }) });
    const first = { responseId: 'r', candidates: [candidate(0, 'a', 'STOP'), candidate(1, 'b')] };
    const second = { responseId: 'r', candidates: [candidate(1, 'c', 'MAX_TOKENS')] };
    expect(translate(make, geminiSse([first]), [])).not.toContain('[DONE]');
    const whole = translate(make, geminiSse([first, second]), []);
    expect(whole.endsWith('data: [DONE]\n\n')).toBe(true);
    const finishes = (events(whole) as Array<{ choices: Array<{ index: number; finish_reason: string | null }> }>).flatMap((chunk) => chunk.choices.filter((choice) => choice.finish_reason));
    expect(finishes.map((choice) => [choice.index, choice.finish_reason])).toEqual([[0, 'stop'], [1, 'length']]);
  });

  it('refuses a tool result that answers no earlier tool call', () => {
    expect(() => toGeminiRequest(chat([{ role: 'tool', tool_call_id: 'nope', content: 'x' }]), 'gemini-2.5-flash')).toThrow(/matches no earlier assistant tool call/);
  });

  it.each(['stream-text.sse', 'stream-thoughts.sse'])('gives the same chunks for %s split at any byte', (file) => {
    const make = () => new GeminiStreamTranslator('gemini-x', true, NO_KEY);
    const bytes = Buffer.from(fixture(`gemini/${file}`));
    const whole = translate(make, bytes, []);
    expect(whole.endsWith('data: [DONE]\n\n')).toBe(true);
    for (const chunk of events(whole)) assertConforms('CreateChatCompletionStreamResponse', chunk);
    for (let cut = 1; cut < bytes.length; cut += 2) expect(translate(make, bytes, [cut])).toBe(whole);
  });

  it('turns an error event into an OpenAI error event without [DONE]', () => {
    const out = translate(() => new GeminiStreamTranslator('gemini-x', false, NO_KEY), Buffer.from(`data: ${fixture('gemini/error-unavailable.json').trim()}\r\n\r\n`), []);
    expect(events(out)).toEqual([{ error: { message: 'Gemini: The model is overloaded. Please try again later.', type: 'upstream_error', param: null, code: 'service_unavailable' } }]);
    expect(out).not.toContain('[DONE]');
  });
});
