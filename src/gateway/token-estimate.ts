import type { InferenceRequest, Usage } from './inference-request.js';

/** Tokens guessed from a text's size in bytes: about 4 bytes a token. */
export const tokensOfBytes = (bytes: number): number => Math.ceil(bytes / 4);

/** Prompt tokens guessed from the request's size (all that is known before the answer). */
export function promptTokenEstimate(request: InferenceRequest): number {
  return tokensOfBytes(request.raw.length);
}

/**
 * The answer's token cap the client set (`max_completion_tokens` or `max_tokens`, the Responses
 * API's `max_output_tokens`), if any. Only a
 * token count counts: a negative cap would reserve negative tokens and charge negative spend.
 */
export function completionCap(request: InferenceRequest): number | undefined {
  const body = request.body;
  return [body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find((v): v is number => Number.isSafeInteger(v) && (v as number) >= 0);
}

/**
 * The usage charged for an answer whose backend reported none (a stream without
 * `stream_options.include_usage`, or one the client left): the prompt guessed from its size,
 * the completion from what was relayed, never above the request's own cap.
 */
export function estimatedUsage(request: InferenceRequest, relayedCompletionTokens: number): Usage {
  const prompt = promptTokenEstimate(request);
  const completion = Math.min(relayedCompletionTokens, completionCap(request) ?? Infinity);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
