import type { Backend } from '../../fleet/backend.js';
import type { InferenceRequest } from '../../gateway/inference-request.js';
import { versionedPath } from '../../upstream/paths.js';
import type { ProviderAdapter, UpstreamCall } from '../adapter.js';
import { requireChat } from '../chat-translation.js';
import { wantsUsage } from '../openai-chunks.js';
import { DEFAULT_MAX_TOKENS, toAnthropicRequest } from './request.js';
import { answerToolFor, answerToolOf } from './response-format.js';
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
    chatOnly: true,
    request(request: InferenceRequest, backend: Backend, upstreamModel: string): UpstreamCall {
      requireChat(request, 'Anthropic', backend.name);
      const body = toAnthropicRequest(request.body, upstreamModel, request.stream, defaultMaxTokens);
      return { path: versionedPath(backend, '/v1', '/messages'), headers: anthropicHeaders(request, backend, ANTHROPIC_VERSION), body: JSON.stringify(body) };
    },
    response: (status, body, request) => fromAnthropicResponse(status, body, request.model, answerToolOf(request.body)),
    // A model asked for structured outputs is given no answer tool (see response-format.ts): its text is the answer, streamed as it comes.
    stream: (request, context) => new AnthropicStreamTranslator(request.model, wantsUsage(request.body), context, answerToolFor(request.body, context.upstreamModel)),
    messages: NATIVE_MESSAGES,
  };
}

/**
 * The Messages API route to an Anthropic target: the client's body goes upstream byte for byte
 * (re-serialised only when the target knows the model by another name), and the answer, stream
 * and errors come back as Anthropic gave them, less any echo of the target's key (the gateway's
 * doing, as for every stream relayed as it came: see StreamWithoutKey). The client's API version
 * and beta flags are passed on: they choose the body's meaning; its credentials never are.
 */
const NATIVE_MESSAGES: ProviderAdapter = {
  name: 'anthropic',
  passiveHealthOnly: true,
  request(request: InferenceRequest, backend: Backend, upstreamModel: string): UpstreamCall {
    const version = request.headers['anthropic-version'];
    const headers = anthropicHeaders(request, backend, typeof version === 'string' ? version : ANTHROPIC_VERSION);
    const beta = request.headers['anthropic-beta'];
    if (typeof beta === 'string') headers['anthropic-beta'] = beta;
    const messages = withoutUnsignedThinking(request.body.messages);
    const body = upstreamModel === request.model && messages === undefined ? request.raw : JSON.stringify({ ...request.body, model: upstreamModel, ...(messages && { messages }) });
    return { path: versionedPath(backend, '/v1', '/messages'), headers, body };
  },
};

const isUnsignedThinking = (block: unknown): boolean => (block as { type?: unknown } | null)?.type === 'thinking' && (block as { signature?: unknown }).signature === '';

/**
 * The messages without the thinking blocks that carry no signature, or undefined when none does (the
 * body then goes as sent). The router's translation gives an engine's reasoning such blocks (see
 * messages/response.ts), and Anthropic refuses a request that brings one back, as when a
 * conversation moves from an engine to Claude.
 */
function withoutUnsignedThinking(messages: unknown): unknown[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  const unsigned = (message: { content?: unknown } | null) => Array.isArray(message?.content) && message.content.some(isUnsignedThinking);
  if (!messages.some(unsigned)) return undefined;
  return messages.map((message: { content?: unknown[] } | null) => (unsigned(message) ? { ...message, content: message!.content!.filter((block) => !isUnsignedThinking(block)) } : message));
}

function anthropicHeaders(request: InferenceRequest, backend: Backend, version: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': version, 'x-request-id': request.id };
  if (backend.apiKey) headers['x-api-key'] = backend.apiKey;
  return headers;
}
