import type OpenAI from 'openai';
import { assertConforms } from './conformance.js';

/** Shared request pieces and helpers for chat tests. */

export const RED_PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

export const WEATHER_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } },
};

/** Every chunk of a stream, each checked against the OpenAI chunk schema. */
export async function collectConforming(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<OpenAI.ChatCompletionChunk[]> {
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    assertConforms('CreateChatCompletionStreamResponse', chunk);
    chunks.push(chunk);
  }
  return chunks;
}

/** A two-token chat through `baseUrl`: its status and which target served it. */
export async function chatTarget(baseUrl: string, model: string): Promise<{ status: number; target: string | null }> {
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  await response.arrayBuffer();
  return { status: response.status, target: response.headers.get('x-switchyard-target') };
}
