import type { Usage } from './inference-request.js';

/** The Responses API's usage object (`usage` of a Response). */
interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
}

/**
 * A Responses API usage in the shape the rest of the router counts in (metrics, spend, TPM
 * limits, the request log): input tokens are the prompt's, output tokens the completion's.
 */
export function usageOfResponses(usage: unknown): Usage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const { input_tokens: input, output_tokens: output, total_tokens: total, input_tokens_details: details } = usage as ResponsesUsage;
  const counted: Usage = { prompt_tokens: input, completion_tokens: output, total_tokens: total };
  if (typeof details?.cached_tokens === 'number') counted.prompt_tokens_details = { cached_tokens: details.cached_tokens };
  return counted;
}
