import type { ProviderAdapter } from '../adapter.js';
import { chatBridge } from '../chat-bridge.js';
import { toChatRequest } from './request.js';
import { toResponsesResponse } from './response.js';
import { ResponsesStreamTranslator } from './stream.js';

const responsesThroughChat = chatBridge({
  toChat: (request, target) => toChatRequest(request.body, target, request.previousItems),
  answer: toResponsesResponse,
  stream: (request, chat, context) => new ResponsesStreamTranslator(request, chat, context),
});

/**
 * How `adapter`'s target serves the OpenAI Responses API route: natively (the body byte for byte),
 * unless it speaks chat completions only (`chatOnly`: Anthropic, Gemini), which it is then served
 * through (see chat-bridge.ts); the target keeps none of those answers, the router does (see
 * gateway/bridged-responses.ts).
 */
export const responsesRoute = (adapter: ProviderAdapter): ProviderAdapter => (adapter.chatOnly ? { ...responsesThroughChat(adapter), storesNoResponses: true } : adapter);
