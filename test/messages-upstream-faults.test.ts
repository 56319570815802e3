import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceRequest } from '../src/gateway/inference-request.js';
import type { StreamTranslator } from '../src/providers/adapter.js';
import { toMessagesResponse } from '../src/providers/messages/response.js';
import { HeldContentTooLargeError } from '../src/providers/chat-chunk-translator.js';
import { MessagesStreamTranslator } from '../src/providers/messages/stream.js';
import { ResponsesStreamTranslator } from '../src/providers/responses/stream.js';
import { FakeUpstream } from './support/fake-upstream.js';
import { startRouter, stopAll } from './support/processes.js';

/** A chat chunk of one delta, as an engine streams it. */
const chunk = (delta: Record<string, unknown>, finish: string | null = null): Buffer =>
  Buffer.from(`data: ${JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);

/** How many chunks of 1,000 characters of text a translator takes before it throws at its bound (it must, within 20). */
function textChunksTakenBeforeTheBound(translator: StreamTranslator): number {
  const text = chunk({ content: 'x'.repeat(1000) });
  let sent = 0;
  expect(() => {
    for (; sent < 20; sent++) translator.push(text);
  }).toThrow(HeldContentTooLargeError);
  return sent;
}

/** The content blocks a translated stream starts, and the JSON each tool-use block's deltas spell. */
function blocksOf(out: string): { starts: unknown[]; json: string[] } {
  const starts: unknown[] = [];
  const json: string[] = [];
  for (const line of out.split('\n').filter((l) => l.startsWith('data: '))) {
    const event = JSON.parse(line.slice(6)) as { type: string; index?: number; content_block?: unknown; delta?: { partial_json?: string } };
    if (event.type === 'content_block_start') {
      starts.push(event.content_block);
      json.push('');
    }
    if (event.delta?.partial_json !== undefined) json[event.index!] += event.delta.partial_json;
  }
  return { starts, json };
}

describe('the Messages (and Responses) stream translations against engines that misbehave', () => {
  const request = { model: 'm', body: {} } as InferenceRequest;

  it('gives each tool use an id and a string name when an engine sent none (or an empty id in every piece), whole or streamed', () => {
    const translator = new MessagesStreamTranslator(request, undefined, { apiKey: undefined, maxEventBytes: 1 << 20, upstreamModel: 'm' });
    let out = translator.push(chunk({ tool_calls: [{ index: 0, id: '', type: 'function', function: { name: ['f'], arguments: '{"a":' } }] }));
    out += translator.push(chunk({ tool_calls: [{ index: 0, id: '', function: { arguments: '1}' } }] }));
    out += translator.push(chunk({ tool_calls: [{ index: 1, function: { name: 'g', arguments: '{}' } }] }));
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    const { starts, json } = blocksOf(out);
    expect(starts).toEqual([
      { type: 'tool_use', id: expect.stringMatching(/^toolu_\w+$/), name: '', input: {} },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_\w+$/), name: 'g', input: {} },
    ]);
    expect(json).toEqual(['{"a":1}', '{}']);
    const whole = toMessagesResponse(200, JSON.stringify({ choices: [{ message: { tool_calls: [{ function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] }), request);
    expect(JSON.parse(whole.body).content).toEqual([{ type: 'tool_use', id: expect.stringMatching(/^toolu_\w+$/), name: 'f', input: {} }]);
  });

  it('tells parallel calls apart when an engine gives them no id and one index alike, or none, by the function each piece names', () => {
    const translator = new MessagesStreamTranslator(request, undefined, { apiKey: undefined, maxEventBytes: 1 << 20, upstreamModel: 'm' });
    const piece = (fields: Record<string, unknown>) => chunk({ tool_calls: [{ ...fields, type: 'function' }] });
    let out = translator.push(piece({ index: 0, function: { name: 'f', arguments: '{"a":' } }));
    // the same name repeated on a piece of an unfinished call (some engines send it on every piece) continues it
    out += translator.push(piece({ index: 0, function: { name: 'f', arguments: '1}' } }));
    // another function's name, the same index: a second call
    out += translator.push(piece({ index: 0, function: { name: 'g', arguments: '{}' } }));
    // the same function again after the last call's arguments are whole, with no index: a third
    out += translator.push(piece({ function: { name: 'g', arguments: '{"b":2}' } }));
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    const { starts, json } = blocksOf(out);
    expect(starts).toEqual(['f', 'g', 'g'].map((name) => ({ type: 'tool_use', id: expect.stringMatching(/^toolu_\w+$/), name, input: {} })));
    expect(json).toEqual(['{"a":1}', '{}', '{"b":2}']);
  });

  it('ends the stream once a target sends more than max_response_bytes behind a tool call it never completes, rather than holding it all', () => {
    const translator = new MessagesStreamTranslator(request, undefined, { apiKey: undefined, maxEventBytes: 10_000, upstreamModel: 'm' });
    translator.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":' } }] }));
    expect(textChunksTakenBeforeTheBound(translator)).toBe(9);
  });

  it('ends a translated Responses stream once what it keeps for its terminal event passes max_response_bytes', () => {
    // response.completed repeats the whole output: the translation holds it, so it is bounded as a whole answer is
    const translator = new ResponsesStreamTranslator({ model: 'm', body: { input: 'x' } } as unknown as InferenceRequest, undefined, { apiKey: undefined, maxEventBytes: 10_000, upstreamModel: 'm' });
    expect(textChunksTakenBeforeTheBound(translator)).toBe(10);
  });

  it('keeps nothing of a tool call once its block is closed, so that a long stream of calls holds only the open one', () => {
    const translator = new MessagesStreamTranslator(request, undefined, { apiKey: undefined, maxEventBytes: 10_000, upstreamModel: 'm' });
    let out = '';
    // 50 calls of 1,000 characters each, one after another: 50,000 in all, five times the bound.
    for (let n = 0; n < 50; n++) {
      out += translator.push(chunk({ tool_calls: [{ index: n, id: `call_${n}`, type: 'function', function: { name: 'f', arguments: '' } }] }));
      out += translator.push(chunk({ tool_calls: [{ index: n, function: { arguments: `{"x":"${'y'.repeat(992)}"}` } }] }));
    }
    out += translator.push(Buffer.from('data: [DONE]\n\n'));
    expect(blocksOf(out).starts).toHaveLength(50);
    expect(out.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
  });
});

describe('an Anthropic target whose stream stops inside an event, through the router', () => {
  let fake: FakeUpstream;
  let client: Anthropic;
  let routerUrl: string;
  const event = (type: string, fields: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
  const started =
    event('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }) +
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } });

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    const router = await startRouter({
      services: [
        { name: 'keyed', provider: 'anthropic', models: ['claude-x'], api_key: 'sk-ant-test-key-1234', url: fake.url },
        { name: 'open', provider: 'anthropic', models: ['claude-open'], url: fake.url },
      ],
      retry: { max_attempts: 1 },
      // every answer here is a broken stream: the targets must stay in rotation for the next one
      cooldown: { failure_threshold: 100 },
      health_check: { failure_threshold: 100 },
    });
    routerUrl = router.url;
    client = new Anthropic({ baseURL: router.url, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it("ends the cut event before its own error event, so that the SDK raises the router's error rather than a JSON SyntaxError", async () => {
    const cuts = ['event: content_block_delta\ndata: {"type":"content_bl', 'event: content_block_delta\n', event('error', { error: { type: 'api_error', message: 'sk-ant-test-key-1234 refused' } }).slice(0, -1)];
    for (const model of ['claude-x', 'claude-open']) {
      for (const cut of cuts) {
        fake.reply({ sse: started + cut });
        const failure = await client.messages.stream({ model, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage().catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(Anthropic.APIError);
        expect([model, cut, (failure as Error).message]).toEqual([model, cut, expect.stringMatching(/the backend ended the stream before message_stop/)]);
      }
    }
    fake.reply({ sse: started + 'event: content_block_delta\ndata: {"type":"content_bl' });
    const raw = await fetch(`${routerUrl}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-open', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'Hi' }] }) });
    expect(await raw.text()).toBe(`${started}event: content_block_delta\ndata: {"type":"content_bl\nevent: ping\n\nevent: error\ndata: {"type":"error","error":{"type":"api_error","message":"the backend ended the stream before message_stop"}}\n\n`);
  });
});
