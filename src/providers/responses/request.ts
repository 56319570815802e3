import { ApiError, badRequest } from '../../server/errors.js';
import type { AnswerLimitParam } from '../adapter.js';
import type { ChatTarget } from '../chat-bridge.js';
import { mapParameters, shown, type ParameterTable } from '../chat-translation.js';
import type { ThinkingBlock } from '../openai-chunks.js';
import { unsealedThinking } from './thinking-blocks.js';
import { customArguments, localShellArguments } from './tool-calls.js';
import { LOCAL_SHELL, requestTools } from './tools.js';

type Fields = Record<string, unknown>;
type ChatMessage = Fields;

/** The chat messages made so far, and the thinking of a reasoning item waiting for the assistant message that follows it. */
interface Conversation {
  messages: ChatMessage[];
  thinking: ThinkingBlock[] | undefined;
}

/**
 * Responses API fields → OpenAI chat parameters. Fields not listed have no chat counterpart and are
 * not sent (`metadata`, `store`, `include`, `truncation`, `service_tier`, `prompt_cache_key`, …).
 */
const CHAT_PARAMETERS: ParameterTable = {
  max_output_tokens: { to: 'max_tokens' },
  temperature: { to: 'temperature' },
  top_p: { to: 'top_p' },
  user: { to: 'user' },
  parallel_tool_calls: { to: 'parallel_tool_calls' },
  reasoning: { to: 'reasoning_effort', convert: (reasoning) => (reasoning as { effort?: unknown }).effort ?? undefined },
  text: { to: 'response_format', convert: responseFormat },
  tool_choice: { to: 'tool_choice', convert: chatToolChoice },
  stream: { to: 'stream' },
};

/** The table for each parameter a target limits the answer's length by (see ProviderAdapter.answerLimit). */
const CHAT_PARAMETERS_BY_LIMIT: Readonly<Record<AnswerLimitParam, ParameterTable>> = {
  max_tokens: CHAT_PARAMETERS,
  max_completion_tokens: { ...CHAT_PARAMETERS, max_output_tokens: { to: 'max_completion_tokens' } },
};

/** Chat content parts of the Responses API's input content parts; others (files, audio) need the provider's own Responses API. */
const CHAT_PART_TYPES = new Set(['input_text', 'output_text', 'refusal', 'input_image']);

const MESSAGE_ROLES = new Set(['user', 'system', 'developer', 'assistant']);

/**
 * The OpenAI chat request for a Responses API body, for a target without a Responses API, as
 * LiteLLM's bridge makes it: `instructions` become the first (system) message, then come the items
 * of the conversation the request continues (`previousItems`, of the response the router kept for
 * its `previous_response_id`; no earlier turn's `instructions`, as OpenAI carries none over), input messages chat
 * messages, calls (`function_call`, `custom_tool_call`, `local_shell_call` items) an assistant's
 * `tool_calls` and their outputs `tool` messages; tools become chat function tools (tools.ts);
 * `reasoning` items are dropped (chat has no place for them), but for Anthropic's
 * signed thinking in their `encrypted_content`, which goes back as the next assistant message's
 * `thinking_blocks`. What the router does not keep (a `conversation`, a `background` response), or
 * a tool only OpenAI runs, is refused with 400. A streamed request asks for the usage chunk, which
 * the stream's terminal event reports.
 */
export function toChatRequest(body: Fields, { answerLimit }: Pick<ChatTarget, 'answerLimit'> = { answerLimit: 'max_tokens' }, previousItems: readonly unknown[] = []): Fields {
  refuseStateful(body);
  const conversation: Conversation = { messages: [], thinking: undefined };
  const { instructions } = body;
  if (typeof instructions === 'string' && instructions !== '') conversation.messages.push({ role: 'system', content: instructions });
  else if (instructions !== undefined && instructions !== null && typeof instructions !== 'string') {
    throw badRequest("Invalid type for 'instructions': expected a string", 'instructions', 'invalid_type');
  }
  previousItems.forEach((item, index) => addItem(conversation, item, `previous_response_id's item ${index}`));
  if (typeof body.input === 'string') conversation.messages.push({ role: 'user', content: body.input });
  else (body.input as unknown[]).forEach((item, index) => addItem(conversation, item, `input[${index}]`));
  const chat: Fields = { model: body.model, messages: conversation.messages, ...mapParameters(body, CHAT_PARAMETERS_BY_LIMIT[answerLimit]) };
  const tools = requestTools(body.tools).chat;
  if (tools !== undefined) chat.tools = tools;
  if (chat.stream === true) chat.stream_options = { include_usage: true };
  return chat;
}

/** What needs a stateful store the router does not keep (a conversation object, a response made in the background): refused, with what to send instead. */
function refuseStateful(body: Fields): void {
  const { conversation } = body;
  if (conversation !== undefined && conversation !== null) {
    throw new ApiError(
      400,
      `'conversation' is not supported for model '${shown(body.model)}': its target has no Responses API and the router keeps no conversation objects for it; continue a response with 'previous_response_id', or send the whole conversation in 'input'`,
      'invalid_request_error',
      'unsupported_parameter',
      'conversation',
    );
  }
  if (body.background === true) {
    throw new ApiError(400, `'background' is not supported for model '${shown(body.model)}': its target has no Responses API and the router makes no responses in the background for it`, 'invalid_request_error', 'unsupported_parameter', 'background');
  }
}

/** Adds one input item's chat message, or its tool call to the assistant message before it. */
function addItem(conversation: Conversation, item: unknown, where: string): void {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badRequest(`${where} must be an object`, where, 'invalid_type');
  const fields = item as Fields;
  switch (fields.type ?? 'message') {
    case 'message': {
      const message = chatMessage(fields, where);
      if (message.role === 'assistant') return addAssistant(conversation, message);
      return addTurn(conversation, message);
    }
    case 'function_call':
      return addToolCall(conversation, requiredString(fields, 'call_id', where), requiredString(fields, 'name', where), requiredString(fields, 'arguments', where));
    case 'custom_tool_call':
      return addToolCall(conversation, requiredString(fields, 'call_id', where), requiredString(fields, 'name', where), customArguments(requiredString(fields, 'input', where)));
    case 'local_shell_call':
      return addToolCall(conversation, localShellCallId(fields, where), LOCAL_SHELL, localShellArguments(fields.action, where));
    case 'function_call_output':
    case 'custom_tool_call_output':
      return addToolOutput(conversation, requiredString(fields, 'call_id', where), fields.output, where);
    case 'local_shell_call_output':
      return addToolOutput(conversation, localShellCallId(fields, where), fields.output, where);
    case 'reasoning': {
      // The model's reasoning in an earlier turn, which chat has no place for, but for Anthropic's signed thinking.
      const thinking = unsealedThinking(fields.encrypted_content);
      if (thinking !== undefined) conversation.thinking = [...(conversation.thinking ?? []), ...thinking];
      return;
    }
  }
  throw badRequest(`${where}: input item type '${shown(fields.type)}' is not supported for this model (its target has no Responses API)`, `${where}.type`, 'unsupported_input');
}

function chatMessage(item: Fields, where: string): ChatMessage {
  const { role, content } = item;
  if (typeof role !== 'string' || !MESSAGE_ROLES.has(role)) {
    throw badRequest(`${where}.role must be one of 'user', 'system', 'developer' or 'assistant', got '${shown(role)}'`, `${where}.role`, 'invalid_value');
  }
  if (typeof content === 'string') return { role, content };
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be a string or an array of content parts`, `${where}.content`, 'invalid_type');
  const parts = content.map((part: unknown, at) => chatPart(part, `${where}.content[${at}]`));
  // Chat takes parts in user messages only: other roles get the text.
  if (role === 'user') return { role, content: parts };
  return { role, content: parts.map((part) => (part.type === 'text' ? part.text : refuseImage(where))).join('') };
}

function chatPart(part: unknown, where: string): Fields {
  const { type, text, image_url: url } = (part ?? {}) as Fields;
  if (typeof type !== 'string' || !CHAT_PART_TYPES.has(type)) {
    throw badRequest(`${where}: content part type '${shown(type)}' is not supported for this model (its target has no Responses API)`, where, 'unsupported_content');
  }
  if (type !== 'input_image') {
    const value = type === 'refusal' ? (part as Fields).refusal : text;
    if (typeof value !== 'string') throw badRequest(`${where}: a '${type}' part needs its text as a string`, where, 'invalid_type');
    return { type: 'text', text: value };
  }
  // An image the provider has among its files (`file_id`) is the provider's Responses API's to read.
  if (typeof url !== 'string') throw badRequest(`${where}: only images given by 'image_url' (a data: or https: URL) are supported for this model`, where, 'unsupported_content');
  return { type: 'image_url', image_url: { url } };
}

function refuseImage(where: string): never {
  throw badRequest(`${where}: images are only allowed in user messages`, `${where}.content`, 'unsupported_content');
}

/**
 * A tool call of an earlier turn, joined to the assistant message it follows (chat gives a turn's
 * text and calls one message), unless thinking came between them.
 */
function addToolCall(conversation: Conversation, callId: string, name: string, args: string): void {
  const call = { id: callId, type: 'function', function: { name, arguments: args } };
  const last = conversation.messages.at(-1);
  if (last?.role === 'assistant' && conversation.thinking === undefined) last.tool_calls = [...((last.tool_calls as unknown[] | undefined) ?? []), call];
  else addAssistant(conversation, { role: 'assistant', content: null, tool_calls: [call] });
}

function addToolOutput(conversation: Conversation, callId: string, output: unknown, where: string): void {
  addTurn(conversation, { role: 'tool', tool_call_id: callId, content: toolOutput(output, where) });
}

/**
 * A message of another role than the assistant's: the thinking of a reasoning item still waiting
 * for its assistant message is dropped, as that turn was cut before it answered (an interrupted
 * Codex turn), and Anthropic takes a turn's thinking only with the answer it led to.
 */
function addTurn(conversation: Conversation, message: ChatMessage): void {
  conversation.thinking = undefined;
  conversation.messages.push(message);
}

/** The call id of a local shell call or its output: `call_id`, or `id`, by which the schema's output item names its call. */
function localShellCallId(item: Fields, where: string): string {
  return typeof item.call_id === 'string' ? item.call_id : requiredString(item, 'id', where);
}

/** An assistant message, with the thinking before it (`thinking_blocks`, which the Anthropic translation sends first in the turn). */
function addAssistant(conversation: Conversation, message: ChatMessage): void {
  if (conversation.thinking !== undefined) {
    message.thinking_blocks = conversation.thinking;
    conversation.thinking = undefined;
  }
  conversation.messages.push(message);
}

/** A tool's output as a `tool` message's content: a string, or text parts (images go only in user messages). */
function toolOutput(output: unknown, where: string): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) throw badRequest(`${where}.output must be a string or an array of content parts`, `${where}.output`, 'invalid_type');
  return output.map((part: unknown, at) => chatPart(part, `${where}.output[${at}]`)).map((part) => (part.type === 'text' ? part.text : refuseImage(where))).join('');
}

function requiredString(item: Fields, field: string, where: string): string {
  const value = item[field];
  if (typeof value !== 'string') throw badRequest(`${where}.${field} must be a string`, `${where}.${field}`, 'invalid_type');
  return value;
}

/** `tool_choice` in chat's words: the same words, and a named function or custom tool as chat names it; choices of OpenAI's own tools are refused. */
function chatToolChoice(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  const { type, name } = (choice ?? {}) as Fields;
  // A custom tool is a chat function of its name (tools.ts).
  if ((type === 'function' || type === 'custom') && typeof name === 'string') return { type: 'function', function: { name } };
  throw badRequest(`Invalid 'tool_choice': only 'auto', 'none', 'required', {type: 'function', name} or {type: 'custom', name} are supported for this model, got '${shown(choice)}'`, 'tool_choice', 'unsupported_value');
}

/** `text.format` as chat's `response_format`: JSON object or JSON schema; plain text needs none. */
function responseFormat(text: unknown): unknown {
  const format = (text as { format?: Fields | null }).format;
  if (format === undefined || format === null || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const { name, schema, strict, description } = format;
    return { type: 'json_schema', json_schema: { name, schema, ...(strict !== undefined && strict !== null && { strict }), ...(typeof description === 'string' && { description }) } };
  }
  throw badRequest(`Invalid 'text.format': type '${shown(format.type)}' is not supported`, 'text.format', 'unsupported_value');
}
