import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, FakeUpstream } from './support/fake-upstream.js';

/**
 * The Anthropic provider tests stand on recorded Messages API bodies served by a fake upstream.
 * Here the official Anthropic SDK reads those same recordings from the same fake: if a recording
 * or the fake drifted from the real wire format, the SDK would fail here, not only our translator.
 */
describe('recorded Anthropic answers, read by the official Anthropic SDK', () => {
  let fake: FakeUpstream;
  let client: Anthropic;
  const ask = { model: 'claude-sonnet-4-20250514', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Weather in SF?' }] };

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    client = new Anthropic({ baseURL: fake.url, apiKey: 'sk-ant-test-key', maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it('parses the recorded messages, text and tool use, with their usage', async () => {
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') }, { status: 200, json: fixture('anthropic/message-tool-use.json') });
    const text = await client.messages.create(ask);
    expect(text.content[0]).toMatchObject({ type: 'text', text: expect.any(String) });
    expect(text.usage.output_tokens).toBeGreaterThan(0);
    const tool = await client.messages.create(ask);
    expect(tool.stop_reason).toBe('tool_use');
    expect(tool.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { location: 'San Francisco, CA' } });
    expect(fake.last().url).toBe('/v1/messages');
    fake.reply({ status: 200, json: fixture('anthropic/message-thinking-tool-use.json') });
    const thinking = await client.messages.create(ask);
    expect(thinking.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text', 'tool_use']);
  });

  it('assembles the recorded streams, split into 7-byte pieces, into whole messages', async () => {
    fake.reply({ sse: fixture('anthropic/stream-text.sse') }, { sse: fixture('anthropic/stream-tool-use.sse') });
    const text = await client.messages.stream(ask).finalMessage();
    expect(text.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/\S/) });
    expect(text.stop_reason).toBe('end_turn');
    const tool = await client.messages.stream(ask).finalMessage();
    expect(tool.stop_reason).toBe('tool_use');
    expect(tool.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } });
    expect(tool.usage.output_tokens).toBeGreaterThan(0);
    fake.reply({ sse: fixture('anthropic/stream-thinking.sse') });
    const thinking = await client.messages.stream(ask).finalMessage();
    expect(thinking.content[0]).toMatchObject({ type: 'thinking', thinking: expect.stringContaining('12231'), signature: expect.stringMatching(/^EqQB/) });
    expect(thinking.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text']);
  });

  it('raises the recorded error bodies as the SDK’s own errors, mid-stream included', async () => {
    const cases: Array<[string, number, new (...args: never[]) => Error]> = [
      ['anthropic/error-authentication.json', 401, Anthropic.AuthenticationError],
      ['anthropic/error-invalid-request.json', 400, Anthropic.BadRequestError],
      ['anthropic/error-rate-limit.json', 429, Anthropic.RateLimitError],
      ['anthropic/error-overloaded.json', 529, Anthropic.InternalServerError],
    ];
    for (const [path, status, kind] of cases) {
      fake.reply({ status, json: fixture(path) });
      await expect(client.messages.create(ask)).rejects.toBeInstanceOf(kind);
    }
    fake.reply({ sse: fixture('anthropic/stream-overloaded.sse') });
    await expect(client.messages.stream(ask).finalMessage()).rejects.toThrow(/Overloaded/);
  });
});
