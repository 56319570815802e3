import { randomUUID } from 'node:crypto';

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

export function chatCompletion(id: string, model: string, text: string, finishReason: string, u: SimUsage) {
  return {
    id,
    object: 'chat.completion',
    created: nowSec(),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage: u,
  };
}

export function chatChunk(id: string, model: string, delta: Record<string, unknown>, finishReason: string | null) {
  return { id, object: 'chat.completion.chunk', created: nowSec(), model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

export function textCompletion(id: string, model: string, text: string, finishReason: string | null, u?: SimUsage) {
  return {
    id,
    object: 'text_completion',
    created: nowSec(),
    model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
    ...(u ? { usage: u } : {}),
  };
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
