import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

describe('router basics (two replicas of one model)', () => {
  let router: Proc;
  let simA: Proc;
  let simB: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    [simA, simB] = await Promise.all([startSim({ models: ['m1', 'shared'], ttftMs: 5 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    router = await startRouter({
      services: [
        { name: 'a', url: simA.url },
        { name: 'b', url: simB.url },
      ],
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  it('answers a chat completion that conforms to the OpenAI schema', async () => {
    const completion = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 });
    assertConforms('CreateChatCompletionResponse', completion);
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ completion_tokens: 4 });
  });

  it('streams chunks that conform, ending in usage when asked', async () => {
    const stream = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) {
      assertConforms('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
  });
});
