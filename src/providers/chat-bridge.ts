import type { InferenceRequest } from '../gateway/inference-request.js';
import { withBody, type AnswerLimitParam, type ProviderAdapter, type StreamContext, type StreamTranslator } from './adapter.js';

/** What the chat request the router writes depends on of its target. */
export interface ChatTarget {
  /** The parameter the target limits an answer's length by (see ProviderAdapter.answerLimit). */
  answerLimit: AnswerLimitParam;
  /** The router translates the target's chat itself (ProviderAdapter.chatOnly), taking every `reasoning_effort` it maps, `none` included. */
  translated: boolean;
}

/** How one client API (the Anthropic Messages API, the OpenAI Responses API) is spoken through a target's chat completions. */
export interface ChatBridge {
  /** The chat body for a request of the API, written for `target`; what chat cannot carry is refused with an ApiError (400). */
  toChat(request: InferenceRequest, target: ChatTarget): Record<string, unknown>;
  /** A chat answer (any status, in OpenAI's shape) as the API's answer. */
  answer(status: number, body: Buffer | string, request: InferenceRequest): { status: number; body: string };
  /** A translator of chat chunks to the API's events; `chat` first turns the target's own stream into chat chunks, when it speaks another format. */
  stream(request: InferenceRequest, chat: StreamTranslator | undefined, context: StreamContext): StreamTranslator;
}

/**
 * A maker of the adapters that serve `bridge`'s API through a target's chat completions: the API's
 * request becomes a chat request for the target's own adapter (which may translate it again, for
 * Anthropic or Gemini), and its chat answer or stream the API's. Each request's chat translation is
 * made once however many attempts and translators read it; apart for each kind of target (ChatTarget),
 * as a request's fallbacks may reach several.
 */
export function chatBridge(bridge: ChatBridge): (chat: ProviderAdapter) => ProviderAdapter {
  const made = new Map<string, WeakMap<InferenceRequest, InferenceRequest>>();
  /** The translations for one kind of target, shared by every adapter of that kind. */
  const translationsFor = ({ answerLimit, translated }: ChatTarget): WeakMap<InferenceRequest, InferenceRequest> => {
    const kind = `${answerLimit} ${translated}`;
    let ofKind = made.get(kind);
    if (ofKind === undefined) made.set(kind, (ofKind = new WeakMap()));
    return ofKind;
  };
  return (chat) => {
    const target: ChatTarget = { answerLimit: chat.answerLimit ?? 'max_tokens', translated: chat.chatOnly === true };
    const translations = translationsFor(target);
    const chatRequestOf = (request: InferenceRequest): InferenceRequest => {
      let translated = translations.get(request);
      if (translated === undefined) {
        translated = { ...withBody(request, bridge.toChat(request, target)), endpoint: 'chat' };
        translations.set(request, translated);
      }
      return translated;
    };
    return {
      name: chat.name,
      passiveHealthOnly: chat.passiveHealthOnly,
      request: (request, backend, upstreamModel) => chat.request(chatRequestOf(request), backend, upstreamModel),
      response(status, body, request) {
        const answer = chat.response ? chat.response(status, body, chatRequestOf(request)) : { status, body };
        return bridge.answer(answer.status, answer.body, request);
      },
      stream: (request, context) => bridge.stream(request, chat.stream?.(chatRequestOf(request), context), context),
    };
  };
}
