import { openAiError } from '../chat-translation.js';

/**
 * Anthropic error types → the status the client gets. 529 (overloaded) has no OpenAI meaning and
 * clients treat it as unknown, so it becomes 503: retryable, like OpenAI's own overload answer.
 */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 503,
};

/** The Anthropic error type of a status, for errors the router answers in Anthropic's shape (the inverse of STATUS_BY_TYPE). */
const TYPE_BY_STATUS: ReadonlyMap<number, string> = new Map(Object.entries(STATUS_BY_TYPE).map(([type, status]) => [status, type]));

export const anthropicErrorType = (status: number): string => TYPE_BY_STATUS.get(status) ?? (status >= 500 ? 'api_error' : 'invalid_request_error');

/** Anthropic's error body: the Anthropic SDK raises the error class of the answer's status with this message. */
export const anthropicErrorBody = (type: string, message: string): string => JSON.stringify({ type: 'error', error: { type, message } });

/** Anthropic's mid-stream error event: the SDK's stream helpers raise it as an APIError. */
export const anthropicErrorEvent = (type: string, message: string): string => `event: error\ndata: ${anthropicErrorBody(type, message)}\n\n`;

export interface AnthropicError {
  type?: string;
  message?: string;
}

/** An Anthropic error body (`{"type":"error","error":{type,message}}`, or anything else) as an OpenAI error. */
export function fromAnthropicError(status: number, body: string): { status: number; body: string } {
  let error: AnthropicError | undefined;
  try {
    error = (JSON.parse(body) as { error?: AnthropicError }).error;
  } catch {
    // not JSON: reported with the raw text below
  }
  const mapped = STATUS_BY_TYPE[error?.type ?? ''] ?? (status === 529 ? 503 : status);
  // a body without a type (say, from a proxy in front of the API) is judged by its status
  const type = error?.type ?? (mapped >= 500 ? 'api_error' : 'invalid_request_error');
  const message = `Anthropic: ${error?.message ?? (body.slice(0, 500) || `answered ${status}`)}`;
  return openAiError(mapped, message, type, type);
}
