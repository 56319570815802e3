import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms, RESPONSE_EVENT_SCHEMA } from './support/conformance.js';
import { FakeUpstream } from './support/fake-upstream.js';
import { startRouter, stopAll, type Proc } from './support/processes.js';

type Block = { thinking: string } | { text: string } | { tool: string; id: string; input: Record<string, unknown> };

/** An Anthropic stream of `blocks` in that order, each streamed in two pieces. */
function anthropicStream(blocks: Block[], stop = 'end_turn'): string {
  const event = (data: Record<string, unknown>) => `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;
  const delta = (index: number, value: Record<string, unknown>) => event({ type: 'content_block_delta', index, delta: value });
  const halves = (text: string) => [text.slice(0, text.length >> 1), text.slice(text.length >> 1)];
  return [
    event({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 50, output_tokens: 1 } } }),
    ...blocks.flatMap((block, index) => {
      if ('thinking' in block) {
        return [event({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }), ...halves(block.thinking).map((thinking) => delta(index, { type: 'thinking_delta', thinking })), delta(index, { type: 'signature_delta', signature: `sig${index}` }), event({ type: 'content_block_stop', index })];
      }
      if ('text' in block) {
        return [event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }), ...halves(block.text).map((text) => delta(index, { type: 'text_delta', text })), event({ type: 'content_block_stop', index })];
      }
      return [event({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.tool, input: {} } }), ...halves(JSON.stringify(block.input)).map((partial_json) => delta(index, { type: 'input_json_delta', partial_json })), event({ type: 'content_block_stop', index })];
    }),
    event({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 30 } }),
    event({ type: 'message_stop' }),
  ].join('');
}

const TOOLS: OpenAI.Responses.Tool[] = [
  { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } }, strict: false },
  { type: 'custom', name: 'apply_patch' },
  { type: 'local_shell' },
];
const WEATHER = { tool: 'get_weather', id: 'toolu_w', input: { location: 'Paris' } };
const WEATHER_2 = { tool: 'get_weather', id: 'toolu_w2', input: { location: 'Oslo' } };
const PATCH = { tool: 'apply_patch', id: 'toolu_p', input: { input: '*** Begin Patch\n*** End Patch\n' } };
const SHELL = { tool: 'local_shell', id: 'toolu_s', input: { command: ['ls', '-l'] } };

describe('a Responses stream bridged from Anthropic, its output items in any order, read by the SDK', () => {
  let anthropic: FakeUpstream;
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    anthropic = await FakeUpstream.start();
    router = await startRouter({
      services: [{ name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-x'], api_key: 'sk-ant-test-key' }],
      health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
      retry: { max_attempts: 1 },
      cooldown: { failure_threshold: 100 },
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await anthropic.close();
  });

  const orders: Array<[string, Block[], string[]]> = [
    ['a tool call then text', [WEATHER, { text: 'Checking.' }], ['function_call', 'message']],
    ['text then a tool call', [{ text: 'Checking.' }, WEATHER], ['message', 'function_call']],
    ['two tool calls', [WEATHER, WEATHER_2], ['function_call', 'function_call']],
    ['reasoning then a tool call', [{ thinking: 'Weather, so the tool.' }, WEATHER], ['reasoning', 'function_call']],
    ['a custom call, a shell call, a function call', [PATCH, SHELL, WEATHER], ['custom_tool_call', 'local_shell_call', 'function_call']],
    ['text, reasoning, text', [{ text: 'One.' }, { thinking: 'Hmm.' }, { text: 'Two.' }], ['message', 'reasoning', 'message']],
  ];
  for (const [name, blocks, types] of orders) {
    it(`assembles ${name}, every event conforming and numbered in order, each item added and done once`, async () => {
      anthropic.reply({ sse: anthropicStream(blocks, blocks.some((block) => 'tool' in block) ? 'tool_use' : 'end_turn') });
      const stream = client.responses.stream({ model: 'claude-x', input: 'Go', tools: TOOLS, stream: true });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) {
        assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
        events.push(event);
      }
      const final = await stream.finalResponse();
      expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, at) => at));
      expect(final.output.map((item) => item.type)).toEqual(types);
      for (const type of ['response.output_item.added', 'response.output_item.done']) {
        expect(events.filter((event) => event.type === type).map((event) => (event as { output_index: number }).output_index)).toEqual(types.map((_, at) => at));
      }
      expect(events.at(-1)!.type).toBe('response.completed');
      expect(final.usage).toMatchObject({ input_tokens: 50, output_tokens: 30 });
      assertConforms('Response', final);
    });
  }
});
