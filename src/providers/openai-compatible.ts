import type { IncomingHttpHeaders } from 'node:http';
import type { Backend } from '../fleet/backend.js';
import { ENDPOINTS, RESPONSE_CALLS, type InferenceRequest } from '../gateway/inference-request.js';
import type { ResponseCallRequest } from '../gateway/response-calls.js';
import { openAiPath } from '../upstream/paths.js';
import { viaUpstream } from '../upstream/via.js';
import type { ProviderAdapter, UpstreamCall } from './adapter.js';

/** Client headers worth passing to an OpenAI-compatible backend; credentials never are. */
const FORWARDED_HEADERS = ['accept', 'user-agent', 'openai-organization', 'openai-project'] as const;

/**
 * Engines and providers that speak the OpenAI API: the client's body goes upstream byte for byte,
 * re-serialised only when the target knows the model by another name.
 */
export const openAiCompatible: ProviderAdapter = {
  name: 'openai-compatible',
  request(request: InferenceRequest, backend: Backend, upstreamModel: string): UpstreamCall {
    const headers = openAiHeaders(request, backend);
    headers['content-type'] = 'application/json';
    const body = upstreamModel === request.model ? request.raw : JSON.stringify({ ...request.body, model: upstreamModel });
    return { path: openAiPath(backend, ENDPOINTS[request.endpoint].path), headers, body };
  },
};

/** A Responses API call on a stored response, to the OpenAI-compatible target holding it: the same path and query as the client's, no body. */
export function storedResponseCall(request: ResponseCallRequest, backend: Backend): { method: (typeof RESPONSE_CALLS)[ResponseCallRequest['call']]['method']; path: string; headers: Record<string, string> } {
  const { method, suffix } = RESPONSE_CALLS[request.call];
  const path = `${openAiPath(backend, `/responses/${encodeURIComponent(request.responseId)}${suffix}`)}${request.query}`;
  return { method, path, headers: openAiHeaders(request, backend) };
}

/** The headers of a call to an OpenAI-compatible target for the client request `request`: what it may pass on, the request id, the target's key. */
function openAiHeaders(request: { id: string; headers: IncomingHttpHeaders }, backend: Backend): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': request.id, via: viaUpstream(request.headers.via) };
  copyHeaders(request.headers, headers);
  if (backend.apiKey) headers.authorization = `Bearer ${backend.apiKey}`;
  return headers;
}

function copyHeaders(from: IncomingHttpHeaders, to: Record<string, string>): void {
  for (const name of FORWARDED_HEADERS) {
    const value = from[name];
    if (typeof value === 'string') to[name] = value;
  }
}
