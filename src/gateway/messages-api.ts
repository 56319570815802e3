import { anthropicErrorBody, anthropicErrorType } from '../providers/anthropic/errors.js';
import { toOpenAiUsage, type AnthropicUsage } from '../providers/anthropic/response.js';
import type { ApiError } from '../server/errors.js';
import type { Usage } from './inference-request.js';

/**
 * The router's own error answers on the Anthropic Messages API route, in Anthropic's shape
 * (`{"type":"error","error":{"type","message"}}`): the Anthropic SDK reads its message from there.
 * The type follows the status (404 `not_found_error`, 429 `rate_limit_error`, …), as Anthropic's do.
 */
export const messagesErrorBody = (error: ApiError): string => anthropicErrorBody(anthropicErrorType(error.status), error.message);

/** A Messages API usage in the shape the rest of the router counts in (metrics, spend, TPM limits, the request log). */
export function usageOfMessages(usage: unknown): Usage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  return toOpenAiUsage(usage as AnthropicUsage);
}
