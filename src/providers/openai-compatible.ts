import type { IncomingHttpHeaders } from 'node:http';
import type { Backend } from '../fleet/backend.js';
import { ENDPOINTS, type InferenceRequest } from '../gateway/inference-request.js';
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

/** The headers of a call to an OpenAI-compatible target for the client request `request`: what it may pass on, the request id, the target's key. */
export function openAiHeaders(request: { id: string; headers: IncomingHttpHeaders }, backend: Backend): Record<string, string> {
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
