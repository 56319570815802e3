import type { Backend } from '../../fleet/backend.js';
import type { InferenceRequest } from '../../gateway/inference-request.js';
import { versionedPath } from '../../upstream/paths.js';
import type { ProviderAdapter, UpstreamCall } from '../adapter.js';
import { requireChat } from '../chat-translation.js';
import { wantsUsage } from '../openai-chunks.js';
import { DEFAULT_MAX_TOKENS, toAnthropicRequest } from './request.js';
import { fromAnthropicResponse } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Anthropic's Messages API, translated to and from OpenAI chat completions. `defaultMaxTokens` is
 * the `max_tokens` sent when the client sets no limit (Anthropic requires one).
 */
export function anthropicAdapter(defaultMaxTokens = DEFAULT_MAX_TOKENS): ProviderAdapter {
  return {
    name: 'anthropic',
    passiveHealthOnly: true,
    request(request: InferenceRequest, backend: Backend, upstreamModel: string): UpstreamCall {
      requireChat(request, 'Anthropic', backend.name);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION, 'x-request-id': request.id };
      if (backend.apiKey) headers['x-api-key'] = backend.apiKey;
      const body = toAnthropicRequest(request.body, upstreamModel, request.stream, defaultMaxTokens);
      return { path: versionedPath(backend, '/v1', '/messages'), headers, body: JSON.stringify(body) };
    },
    response: (status, body, request) => fromAnthropicResponse(status, body, request.model),
    stream: (request, context) => new AnthropicStreamTranslator(request.model, wantsUsage(request.body), context),
  };
}
