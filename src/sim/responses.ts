import { randomUUID } from 'node:crypto';
import type { SimChoice } from './choices.js';
import { chatTokenLogprobs } from './logprobs.js';

/** OpenAI response objects as the simulated engine builds them. */

export interface SimUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function usage(prompt: number, completion: number, cached = 0): SimUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

export const completionId = (prefix: string) => `${prefix}-${randomUUID().replaceAll('-', '')}`;
export const nowSec = () => Math.floor(Date.now() / 1000);

/** A chat completion of `choices`; `top`: alternatives per token when log probabilities were asked for. */
export function chatCompletion(id: string, model: string, choices: readonly SimChoice[], u: SimUsage, top: number | undefined) {
  return {
    id,
    object: 'chat.completion',
    created: nowSec(),
    model,
    choices: choices.map((choice) => ({
      index: choice.index,
      message: chatMessage(choice),
      logprobs: choice.toolCall || top === undefined ? null : { content: chatTokenLogprobs(choice.pieces, top), refusal: null },
      finish_reason: choice.finishReason,
    })),
    usage: u,
  };
}

function chatMessage({ pieces, toolCall }: SimChoice) {
  const text = pieces.join('');
  if (!toolCall) return { role: 'assistant', content: text, refusal: null };
  return { role: 'assistant', content: null, tool_calls: [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: text } }], refusal: null };
}

export function chatChunk(id: string, model: string, index: number, delta: Record<string, unknown>, finishReason: string | null, logprobs: unknown = null) {
  return { id, object: 'chat.completion.chunk', created: nowSec(), model, choices: [{ index, delta, logprobs, finish_reason: finishReason }] };
}

export interface TextChoice {
  index: number;
  text: string;
  logprobs: unknown;
  finish_reason: string | null;
}

export function textCompletion(id: string, model: string, choices: TextChoice[], u?: SimUsage) {
  return { id, object: 'text_completion', created: nowSec(), model, choices, ...(u ? { usage: u } : {}) };
}

export function usageChunk(id: string, model: string, object: string, u: SimUsage) {
  return { id, object, created: nowSec(), model, choices: [], usage: u };
}

export function modelList(models: readonly string[], owner: string) {
  return { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: owner })) };
}

export function simError(status: number, message: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param, code } };
}
