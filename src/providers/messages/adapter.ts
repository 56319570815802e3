import type { InferenceRequest } from '../../gateway/inference-request.js';
import type { ProviderAdapter } from '../adapter.js';
import { toChatRequest } from './request.js';
import { toMessagesResponse } from './response.js';
import { MessagesStreamTranslator } from './stream.js';

/**
 * How a target serves the Anthropic Messages API route: in its own wire format when it speaks
 * Anthropic's (`adapter.messages`), else through chat completions: the Messages request becomes a
 * chat request for the target's own adapter (which may translate it again, for Gemini), and its
 * chat answer a Messages answer.
 */
export function messagesAdapter(adapter: ProviderAdapter): ProviderAdapter {
  return adapter.messages ?? throughChat(adapter);
}

function throughChat(chat: ProviderAdapter): ProviderAdapter {
  return {
    name: chat.name,
    passiveHealthOnly: chat.passiveHealthOnly,
    request: (request, backend, upstreamModel) => chat.request(chatRequestOf(request), backend, upstreamModel),
    response(status, body, request) {
      const answer = chat.response ? chat.response(status, body, chatRequestOf(request)) : { status, body };
      return toMessagesResponse(answer.status, answer.body, request);
    },
    stream: (request, context) => new MessagesStreamTranslator(request, chat.stream?.(chatRequestOf(request), context), context),
  };
}

/** Each Messages request's chat translation, made once however many attempts and translators read it. */
const chatRequests = new WeakMap<InferenceRequest, InferenceRequest>();

function chatRequestOf(request: InferenceRequest): InferenceRequest {
  let chat = chatRequests.get(request);
  if (chat === undefined) {
    const body = toChatRequest(request.body);
    chat = { ...request, endpoint: 'chat', body, raw: Buffer.from(JSON.stringify(body)) };
    chatRequests.set(request, chat);
  }
  return chat;
}
