import type { Backend } from '../../fleet/backend.js';
import type { InferenceRequest } from '../../gateway/inference-request.js';
import { versionedPath } from '../../upstream/paths.js';
import type { ProviderAdapter, UpstreamCall } from '../adapter.js';
import { requireChat } from '../chat-translation.js';
import { wantsUsage } from '../openai-chunks.js';
import { toGeminiRequest } from './request.js';
import { fromGeminiResponse } from './response.js';
import { GeminiStreamTranslator } from './stream.js';

/** Google's Gemini API (generateContent / streamGenerateContent), translated to and from OpenAI chat completions. */
export const geminiAdapter: ProviderAdapter = {
  name: 'gemini',
  passiveHealthOnly: true,
  chatOnly: true,
  request(request: InferenceRequest, backend: Backend, upstreamModel: string): UpstreamCall {
    requireChat(request, 'Gemini', backend.name);
    const method = request.stream ? ':streamGenerateContent?alt=sse' : ':generateContent';
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': request.id };
    if (backend.apiKey) headers['x-goog-api-key'] = backend.apiKey;
    const path = versionedPath(backend, '/v1beta', `/models/${encodeURIComponent(upstreamModel)}${method}`);
    return { path, headers, body: JSON.stringify(toGeminiRequest(request.body, upstreamModel)) };
  },
  response: (status, body, request) => fromGeminiResponse(status, body, request.model),
  stream: (request, context) => new GeminiStreamTranslator(request.model, wantsUsage(request.body), context),
};
