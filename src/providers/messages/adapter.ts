import type { InferenceRequest } from '../../gateway/inference-request.js';
import type { AnswerLimitParam, ProviderAdapter, TargetAdapter } from '../adapter.js';
import { toChatRequest } from './request.js';
import { toMessagesResponse } from './response.js';
import { MessagesStreamTranslator } from './stream.js';

/**
 * `adapter` with how its target serves the Anthropic Messages API route: in its own wire format
 * when it speaks Anthropic's (`adapter.messages`), else through chat completions: the Messages
 * request becomes a chat request for the target's own adapter (which may translate it again, for
 * Gemini), and its chat answer a Messages answer. Made from the adapter as sent to the target, its
 * provider's changes (dropped parameters, answer limit) included.
 */
export function withMessagesRoute(adapter: ProviderAdapter): TargetAdapter {
  return { ...adapter, messagesRoute: adapter.messages ?? throughChat(adapter) };
}

function throughChat(chat: ProviderAdapter): ProviderAdapter {
  const translations = chatRequests[chat.answerLimit ?? 'max_tokens'];
  const chatRequestOf = (request: InferenceRequest) => translationOf(request, translations);
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

interface Translations {
  answerLimit: AnswerLimitParam;
  made: WeakMap<InferenceRequest, InferenceRequest>;
}

/**
 * Each Messages request's chat translation, made once however many attempts and translators read
 * it; apart for each answer-length parameter, as a request's fallbacks may reach both kinds of target.
 */
const chatRequests: Readonly<Record<AnswerLimitParam, Translations>> = {
  max_tokens: { answerLimit: 'max_tokens', made: new WeakMap() },
  max_completion_tokens: { answerLimit: 'max_completion_tokens', made: new WeakMap() },
};

function translationOf(request: InferenceRequest, { answerLimit, made }: Translations): InferenceRequest {
  let chat = made.get(request);
  if (chat === undefined) {
    const body = toChatRequest(request.body, answerLimit);
    chat = { ...request, endpoint: 'chat', body, raw: Buffer.from(JSON.stringify(body)) };
    made.set(request, chat);
  }
  return chat;
}
