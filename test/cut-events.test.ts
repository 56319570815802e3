import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutEvent, endCutJsonEvent } from '../src/gateway/cut-event.js';
import { completeJsonObject } from '../src/gateway/json-prefix.js';
import { startFakeProvider, type FakeProvider } from './support/fake-provider.js';
import { startRouter, stopAll } from './support/processes.js';

const ERROR = { message: 'cut', type: 'upstream_error', param: null, code: 'x' };
const MEMBER = JSON.stringify({ error: ERROR }).slice(1, -1);

describe('completing the start of a JSON object so that it carries an error', () => {
  const samples = [
    { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'He said "hi"\\ \n é 😀 \u0001' }, finish_reason: null, logprobs: null }] },
    { a: [], b: {}, c: [[1, -2.5e-3, 0, 1e10, true, false, null], { d: [{}, []] }], e: '\\', f: -0.0 },
    { error: { message: "the backend's own", code: 1 }, tool_calls: [{ function: { arguments: '{"x": [1, 2]}' } }] },
  ];
  const texts = samples.flatMap((sample) => [JSON.stringify(sample), JSON.stringify(sample, null, 1).replace(/\n/g, ' \t')]);

  it('makes every prefix of an object a whole object whose top-level error is the one given', () => {
    for (const text of texts) {
      for (let length = 0; length < text.length; length++) {
        const prefix = text.slice(0, length);
        const completion = completeJsonObject(prefix, MEMBER);
        expect(completion, prefix).toBeDefined();
        const parsed = JSON.parse(prefix + completion!) as { error: unknown };
        expect([prefix, parsed.error]).toEqual([prefix, ERROR]);
      }
      expect(completeJsonObject(text, MEMBER)).toBeUndefined();
    }
  });

  it('keeps what came before the cut as it was sent', () => {
    const completed = (prefix: string) => JSON.parse(prefix + completeJsonObject(prefix, MEMBER)!) as Record<string, unknown>;
    expect(completed('{"choices":[{"delta":{"content":"Hel')).toEqual({ choices: [{ delta: { content: 'Hel' } }], error: ERROR });
    expect(completed('{"a":"\\u00')).toEqual({ a: '\u0000', error: ERROR });
    expect(completed('{"a":[1,')).toEqual({ a: [1, null], error: ERROR });
    expect(completed('{"a":{"b":1,')).toEqual({ a: { b: 1, '': null }, error: ERROR });
    expect(completed('{"a":tr')).toEqual({ a: true, error: ERROR });
    expect(completed('{"a":1.')).toEqual({ a: 1, error: ERROR });
    expect(completed('{"a')).toEqual({ a: null, error: ERROR });
    expect(completed('  ')).toEqual({ error: ERROR });
  });

  it('refuses what is not the start of an object', () => {
    for (const prefix of ['[1,', '"text', '12', 'true', '{"a":1}}', '{"a" 1', '{,', '{"a":1,}', 'x', '{"a":"b\nc']) expect(completeJsonObject(prefix, MEMBER), prefix).toBeUndefined();
  });
});

describe('the event a stream stopped inside', () => {
  it('is none between events, else the text since the last blank line, known only when the tail holds its start', () => {
    const tail = (text: string) => Buffer.from(text);
    expect(cutEvent(tail('data: 1\n\n'), true)).toBeUndefined();
    expect(cutEvent(tail('data: 1\r\n\r\n'), true)).toBeUndefined();
    expect(cutEvent(tail(''), true)).toBeUndefined();
    expect(cutEvent(tail('data: 1\n\ndata: {"a'), true)).toEqual({ text: 'data: {"a', midLine: true });
    expect(cutEvent(tail('data: 1\n\nevent: x\n'), true)).toEqual({ text: 'event: x\n', midLine: false });
    expect(cutEvent(tail('data: {"a'), true)).toEqual({ text: 'data: {"a', midLine: true });
    expect(cutEvent(tail('ta: {"a'), false)).toEqual({ text: undefined, midLine: true });
  });

  it('is ended carrying the error where its data can, else as it is before the error event', () => {
    const end = (text: string, midLine = true) => endCutJsonEvent({ text, midLine }, MEMBER, 'ERROR-EVENT');
    expect(end('data: {"a":"b')).toBe(`",${MEMBER}}\n\n`);
    expect(end('event: response.output_text.delta\ndata: ')).toBe(`{${MEMBER}}\n\n`);
    expect(end('event: response.output_te')).toBe(`\ndata: {${MEMBER}}\n\n`);
    expect(end(': keep-al')).toBe(`\ndata: {${MEMBER}}\n\n`);
    expect(end('data: {"a":1}')).toBe('\n\nERROR-EVENT');
    expect(end('data: {"a":1}\n', false)).toBe('\nERROR-EVENT');
    expect(end('data: [1,')).toBe('\n\nERROR-EVENT');
    expect(endCutJsonEvent({ text: undefined, midLine: true }, MEMBER, 'ERROR-EVENT')).toBe('\n\nERROR-EVENT');
  });

  it('carries the error when the JSON was sent over several data lines and cut between them, at any byte, with LF or CRLF line ends', () => {
    const json = JSON.stringify({ id: 'c1', choices: [{ delta: { content: 'é 😀 "x"' } }] });
    /** The data of each event a client reads, as the OpenAI SDKs decode and split the bytes. */
    const eventData = (bytes: Buffer) =>
      new TextDecoder()
        .decode(bytes)
        .split(/\r\n\r\n|\n\n|\r\r/)
        .map((event) => event.split(/\r\n|\r|\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(line[5] === ' ' ? 6 : 5)).join('\n'))
        .filter((data) => data !== '');
    for (const eol of ['\n', '\r\n']) {
      const [first, second] = [json.indexOf(',') + 1, json.indexOf('{"content"')];
      const event = Buffer.from(`event: x${eol}data: ${json.slice(0, first)}${eol}data: ${json.slice(first, second)}${eol}data: ${json.slice(second)}${eol}${eol}`);
      for (let length = 1; length < event.length - eol.length; length++) {
        const tail = event.subarray(0, length);
        const ending = endCutJsonEvent(cutEvent(tail, true)!, MEMBER, `data: {${MEMBER}}\n\n`);
        const parsed = eventData(Buffer.concat([tail, Buffer.from(ending)])).map((data) => JSON.parse(data) as { error: unknown });
        expect([eol, length, parsed.at(-1)?.error]).toEqual([eol, length, ERROR]);
      }
    }
  });
});

describe('an OpenAI-compatible target whose stream stops inside an event, through the router', () => {
  let fake: FakeProvider;
  let client: OpenAI;
  /** What the engines send next. */
  let stream = '';
  const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
  const started = chunk('Hel') + chunk('lo');
  const next = chunk(' wor"ld\\ é').slice(0, -2);
  // Every cut of the next chunk's event: inside its field name, its JSON (strings, escapes), before its blank line.
  const cuts = [...Array(next.length + 1).keys()].map((length) => next.slice(0, length));

  beforeAll(async () => {
    fake = await startFakeProvider(() => ({ status: 200, body: '', chunks: [stream] }));
    const router = await startRouter({
      services: [
        { name: 'open', models: ['m-open'], url: fake.url },
        // Its stream goes through the removal of its key.
        { name: 'keyed', models: ['m-keyed'], api_key: 'sk-test-key-123456', url: fake.url },
      ],
      retry: { max_attempts: 1 },
      // every answer here is a broken stream: the targets must stay in rotation for the next one
      cooldown: { failure_threshold: 1000 },
      health_check: { failure_threshold: 1000 },
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it("raises the router's error as an APIError after the chunks that came whole, never a JSON SyntaxError", async () => {
    for (const model of ['m-open', 'm-keyed']) {
      for (const cut of cuts) {
        stream = started + cut;
        const contents: string[] = [];
        const failure = await (async () => {
          const chunks = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
          for await (const part of chunks) contents.push(part.choices[0]?.delta.content ?? '');
        })().catch((error: unknown) => error);
        expect([model, cut, failure instanceof OpenAI.APIError, (failure as Error).message]).toEqual([model, cut, true, expect.stringMatching(/the backend ended the stream without \[DONE\]/)]);
        expect(contents.join('').startsWith('Hello'), cut).toBe(true);
      }
    }
  });

  it('does the same for a Responses API stream', async () => {
    const event = (type: string, fields: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
    const created = event('response.created', { sequence_number: 0, response: { id: 'resp_1', object: 'response', created_at: 1, status: 'in_progress', model: 'm', output: [] } });
    const delta = event('response.output_text.delta', { sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hello "there"' }).slice(0, -2);
    // Cut before it, or once its data is whole, the stream ends with the API's own error event, which the SDK yields (as in responses-api.test.ts).
    const wholeData = delta.length;
    for (let length = 1; length <= delta.length; length += length < wholeData - 7 ? 7 : 1) {
      stream = created + delta.slice(0, length);
      const types: string[] = [];
      const failure = await (async () => {
        const events = await client.responses.create({ model: 'm-open', input: 'Hi', stream: true });
        for await (const event of events) types.push(event.type);
      })().catch((error: unknown) => error);
      const cut = delta.slice(0, length);
      if (length < wholeData) {
        expect([cut, failure instanceof OpenAI.APIError, (failure as Error | undefined)?.message]).toEqual([cut, true, expect.stringMatching(/the backend ended the stream before its terminal event/)]);
      } else {
        expect([cut, failure, types]).toEqual([cut, undefined, ['response.created', 'response.output_text.delta', 'error']]);
      }
    }
  });
});
