import type { IncomingHttpHeaders } from 'node:http';

/** `messages`: the Anthropic Messages API, served to Anthropic SDK clients (see providers/messages/). */
export type Endpoint = 'chat' | 'completions' | 'embeddings' | 'responses' | 'messages';

/** The API path of each endpoint (without the `/v1` prefix) and the field it requires. */
export const ENDPOINTS: Record<Endpoint, { path: string; required: string }> = {
  chat: { path: '/chat/completions', required: 'messages' },
  completions: { path: '/completions', required: 'prompt' },
  embeddings: { path: '/embeddings', required: 'input' },
  responses: { path: '/responses', required: 'input' },
  messages: { path: '/messages', required: 'messages' },
};

/** The Responses API's calls on a stored response, named by its id in the path (they name no model). */
export type ResponseCall = 'retrieve' | 'delete' | 'cancel' | 'input_items';

/** Each call's method and what follows `/responses/{id}` in its path. */
export const RESPONSE_CALLS: Record<ResponseCall, { method: 'GET' | 'DELETE' | 'POST'; suffix: string }> = {
  retrieve: { method: 'GET', suffix: '' },
  delete: { method: 'DELETE', suffix: '' },
  cancel: { method: 'POST', suffix: '/cancel' },
  input_items: { method: 'GET', suffix: '/input_items' },
};

/** A route as metrics and the request log name it: an inference endpoint, or a call on a stored response (`responses.retrieve`, …). */
export type Route = Endpoint | `responses.${ResponseCall}`;

/** One validated inference request, parsed once; `raw` is forwarded as is to OpenAI-compatible targets. */
export interface InferenceRequest {
  id: string;
  endpoint: Endpoint;
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Models to fall back to after the chain of `model`, named by the client (LiteLLM's `fallbacks` field). */
  fallbacks?: readonly string[];
  /** The conversation of the response a Responses API request continues (`previous_response_id`) when the router keeps that response itself (see bridged-responses.ts). */
  previousItems?: readonly Record<string, unknown>[];
}

/** Takes a field meant for the router (`cache`, `fallbacks`) out of what goes upstream. */
export function removeRouterField(request: InferenceRequest, field: string): void {
  const { [field]: _removed, ...rest } = request.body;
  request.body = rest;
  // Re-serialised only because the field must not reach the backend.
  request.raw = Buffer.from(JSON.stringify(rest));
}

/** What accounting needs of a request: also known of one refused before it was valid (`model` then as sent, or empty). */
export type RequestIdentity = Pick<InferenceRequest, 'id' | 'model' | 'startedAt'> & { endpoint: Route };

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}
