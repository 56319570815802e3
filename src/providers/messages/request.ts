import { badRequest } from '../../server/errors.js';
import { TOOL_CHOICE_TYPES } from '../anthropic/request.js';
import type { AnswerLimitParam } from '../adapter.js';
import type { ChatTarget } from '../chat-bridge.js';
import { mapParameters, shown, type ParameterTable } from '../chat-translation.js';
import { chatResponseFormat } from './output-format.js';
import { meetsStrictMode } from './strict-mode.js';
import { chatReasoningEffort } from './thinking.js';

/** Messages API fields → OpenAI chat parameters; fields not listed (`service_tier`, `cache_control`, …) have no chat counterpart and are not sent; `thinking` and the structured output's format are read apart (thinking.ts, output-format.ts). */
const CHAT_PARAMETERS: ParameterTable = {
  max_tokens: { to: 'max_tokens' },
  temperature: { to: 'temperature' },
  top_p: { to: 'top_p' },
  // not OpenAI's, but the engines' (vLLM, SGLang); providers that refuse it have it removed (UNSUPPORTED_PARAMS)
  top_k: { to: 'top_k' },
  stop_sequences: { to: 'stop' },
  metadata: { to: 'user', convert: (metadata) => (metadata as { user_id?: unknown }).user_id ?? undefined },
  stream: { to: 'stream' },
};

/** The table for each parameter a target limits the answer's length by (see ProviderAdapter.answerLimit). */
const CHAT_PARAMETERS_BY_LIMIT: Readonly<Record<AnswerLimitParam, ParameterTable>> = {
  max_tokens: CHAT_PARAMETERS,
  max_completion_tokens: { ...CHAT_PARAMETERS, max_tokens: { to: 'max_completion_tokens' } },
};

/** Anthropic's tool_choice types → OpenAI's words (the inverse of the chat translation's table). */
export const CHAT_TOOL_CHOICES: ReadonlyMap<string, string> = new Map([...TOOL_CHOICE_TYPES].map(([word, type]) => [type, word]));

type Block = Record<string, unknown>;
type ChatMessage = Record<string, unknown>;

/** The target when none is named: an engine, which limits answers by `max_tokens` and is not translated again. */
const ENGINE: ChatTarget = { answerLimit: 'max_tokens', translated: false };

/**
 * The OpenAI chat request for a Messages API body, which validateMessagesBody has found well
 * formed: what is refused here is only what chat cannot carry. The system prompt becomes the first message,
 * tool results become `tool` messages, tool uses an assistant's `tool_calls`, `thinking` a
 * `reasoning_effort` the target takes, a structured output's format a `response_format` with its
 * JSON Schema. A streamed request asks for the usage chunk, which the
 * translated stream's `message_delta` reports. `max_tokens` goes as the parameter the target takes.
 */
export function toChatRequest(body: Record<string, unknown>, target: ChatTarget = ENGINE): Record<string, unknown> {
  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system !== '') messages.push({ role: 'system', content: system });
  (body.messages as unknown[]).forEach((message, index) => messages.push(...chatMessages(message, index)));
  const chat: Record<string, unknown> = { model: body.model, messages, ...mapParameters(body, CHAT_PARAMETERS_BY_LIMIT[target.answerLimit]) };
  const effort = chatReasoningEffort(body, target.translated);
  if (effort !== undefined) chat.reasoning_effort = effort;
  const responseFormat = chatResponseFormat(body);
  if (responseFormat !== undefined) chat.response_format = responseFormat;
  if (body.tools !== undefined && body.tools !== null) chat.tools = chatTools(body.tools);
  if (body.tool_choice !== undefined && body.tool_choice !== null) Object.assign(chat, chatToolChoice(body.tool_choice));
  if (chat.stream === true) chat.stream_options = { include_usage: true };
  return chat;
}

function systemText(system: unknown): string {
  if (system === undefined || system === null) return '';
  if (typeof system === 'string') return system;
  return (system as Block[]).map((block, at) => blockText(block, `system[${at}]`)).join('\n\n');
}

function blockText(block: Block, where: string): string {
  if (block.type === 'text') return block.text as string;
  throw badRequest(`${where}: expected a text block, got type '${shown(block.type)}'`, where, 'unsupported_content');
}

/** One Messages API turn as chat messages: a user turn's tool results come first, as `tool` messages answering the assistant's calls. */
function chatMessages(message: unknown, index: number): ChatMessage[] {
  const { role, content } = message as { role: 'user' | 'assistant'; content: string | Block[] };
  const where = `messages[${index}]`;
  if (typeof content === 'string') return [{ role, content }];
  const parts: Block[] = [];
  const toolResults: ChatMessage[] = [];
  const toolCalls: Block[] = [];
  content.forEach((block, at) => {
    const part = `${where}.content[${at}]`;
    switch (block.type) {
      case 'text':
        return void parts.push({ type: 'text', text: block.text });
      case 'image':
        if (role !== 'user') break;
        return void parts.push(imagePart(block.source, part));
      case 'document':
        if (role !== 'user') break;
        return void parts.push({ type: 'text', text: documentText(block.source, part) });
      case 'tool_use':
        if (role !== 'assistant') break;
        return void toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } });
      case 'tool_result':
        if (role !== 'user') break;
        return void toolResults.push({ role: 'tool', tool_call_id: block.tool_use_id, content: toolResultText(block.content, part, parts) });
      case 'thinking':
      case 'redacted_thinking':
        // the model's reasoning, which chat has no place for in an earlier turn
        return;
    }
    throw badRequest(`${part}: content block type '${shown(block.type)}' is not supported in a ${shown(role)} message for this model`, part, 'unsupported_content');
  });
  if (role === 'assistant') {
    if (parts.length === 0 && toolCalls.length === 0) return [];
    const text = parts.map((part) => part.text).join('');
    return [{ role, content: text === '' ? null : text, ...(toolCalls.length > 0 && { tool_calls: toolCalls }) }];
  }
  return parts.length > 0 ? [...toolResults, { role, content: parts }] : toolResults;
}

/** A base64 or linked image as an image part; a file of Anthropic's Files API is Anthropic's to read. */
function imagePart(source: unknown, where: string): Block {
  const { type, media_type: mediaType, data, url } = source as Block;
  if (type === 'base64') return { type: 'image_url', image_url: { url: `data:${mediaType as string};base64,${data as string}` } };
  if (type === 'url') return { type: 'image_url', image_url: { url } };
  throw badRequest(`${where}.source: only base64 and url image sources are supported for this model`, `${where}.source`, 'unsupported_content');
}

/** A plain-text document as text; a PDF or other binary document needs Anthropic's own reading. */
function documentText(source: unknown, where: string): string {
  const { type, data } = source as Block;
  if (type === 'text') return data as string;
  throw badRequest(`${where}: only plain-text documents (source type 'text') are supported for this model`, `${where}.source`, 'unsupported_content');
}

/**
 * A tool result's content as the text a `tool` message holds. Chat tool messages take no images:
 * a result's images (a screenshot a tool took) join `userParts`, the user message that follows.
 */
function toolResultText(content: unknown, where: string, userParts: Block[]): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  (content as Block[]).forEach((block, at) => {
    if (block.type === 'image') userParts.push(imagePart(block.source, `${where}.content[${at}]`));
    else text += blockText(block, `${where}.content[${at}]`);
  });
  return text;
}

function chatTools(tools: unknown): Block[] {
  return (tools as Block[]).map((tool, at) => {
    // Anthropic's server tools (web search, code execution, …) have a versioned type and no schema: only Anthropic runs them.
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      throw badRequest(`tools[${at}]: only client tools {name, description, input_schema} are supported for this model`, `tools[${at}]`, 'unsupported_tool');
    }
    // strict as Anthropic's is when OpenAI's strict mode takes the schema; otherwise a strict request would be OpenAI's 400 (output-format.ts)
    const strict = tool.strict === true ? { strict: meetsStrictMode(tool.input_schema) } : undefined;
    return { type: 'function', function: { name: tool.name, ...(typeof tool.description === 'string' && { description: tool.description }), parameters: tool.input_schema, ...strict } };
  });
}

function chatToolChoice(choice: unknown): Block {
  const { type, name, disable_parallel_tool_use: serialOnly } = choice as Block;
  const toolChoice = type === 'tool' ? { type: 'function', function: { name } } : CHAT_TOOL_CHOICES.get(type as string);
  return { tool_choice: toolChoice, ...(serialOnly === true && { parallel_tool_calls: false }) };
}
