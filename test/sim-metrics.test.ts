import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms } from './support/conformance.js';
import { startSim, stopAll, type Proc } from './support/processes.js';

describe('simulated engine over HTTP: vLLM metrics and cached tokens', () => {
  let sim: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    sim = await startSim({ models: ['m'], ttftMs: 0, extra: ['--kv-blocks', '64', '--block-size', '16'] });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(stopAll);

  const system = 'Shared instructions for every question about the yard. '.repeat(20);

  it('reports cached prompt tokens for a repeated prefix, in a conforming streamed usage chunk', async () => {
    const ask = async (question: string) => {
      const stream = await client.chat.completions.create({ model: 'm', max_tokens: 3, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'system', content: system }, { role: 'user', content: question }] });
      let last;
      for await (const chunk of stream) {
        assertConforms('CreateChatCompletionStreamResponse', chunk);
        last = chunk;
      }
      return last!.usage!;
    };
    expect((await ask('first?')).prompt_tokens_details?.cached_tokens).toBe(0);
    const second = await ask('second?');
    expect(second.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(160);
    expect(second.prompt_tokens_details!.cached_tokens!).toBeLessThan(second.prompt_tokens);
  });

  it('exposes vLLM-named metrics, counting prefix-cache queries and hits in tokens', async () => {
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total']) {
      expect(text).toMatch(new RegExp(`^${name}\\{model_name="m"\\} [0-9.]+$`, 'm'));
    }
    const hits = Number(/^vllm:prefix_cache_hits_total\{[^}]*\} (\d+)/m.exec(text)![1]);
    expect(hits).toBeGreaterThanOrEqual(160);
  });

  it('rejects a prompt larger than the whole KV cache with a 400 in the OpenAI error shape', async () => {
    const error = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'word '.repeat(2000) }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
  });
});
