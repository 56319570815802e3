import type { ProviderAdapter } from '../adapter.js';
import { chatBridge } from '../chat-bridge.js';
import { toChatRequest } from './request.js';
import { toMessagesResponse } from './response.js';
import { MessagesStreamTranslator } from './stream.js';

const messagesThroughChat = chatBridge({
  toChat: (request, target) => toChatRequest(request.body, target),
  answer: toMessagesResponse,
  stream: (request, chat, context) => new MessagesStreamTranslator(request, chat, context),
});

/**
 * How `adapter`'s target serves the Anthropic Messages API route: in its own wire format when it
 * speaks Anthropic's (`adapter.messages`), else through chat completions (see chat-bridge.ts).
 */
export const messagesRoute = (adapter: ProviderAdapter): ProviderAdapter => adapter.messages ?? messagesThroughChat(adapter);
