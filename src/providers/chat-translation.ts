import { ENDPOINTS, type InferenceRequest } from '../gateway/inference-request.js';
import { ApiError, badRequest } from '../server/errors.js';

/** An OpenAI chat message as clients send it (only the fields translation reads). */
export interface ChatMessage {
  role: string;
  content?: string | ContentPart[] | null;
  tool_calls?: Array<{ id: string; type?: string; function: { name: string; arguments: string }; extra_content?: { google?: { thought_signature?: unknown } } }>;
  tool_call_id?: string;
  /** The thinking blocks of an earlier answer, as the client got them (LiteLLM's field): Anthropic wants them back with their signatures. */
  thinking_blocks?: unknown;
}

interface ContentPart {
  type: string;
  text?: string;
  image_url?: { url: string } | string;
}

export type Part = { kind: 'text'; text: string } | { kind: 'image'; url: string };

export interface OpenAiTool {
  type: string;
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: unknown };
}

/** Where a client parameter goes in the provider's request; `null` marks one the provider lacks, dropped on purpose. */
export type ParameterTable = Readonly<Record<string, { to: string; convert?: (value: unknown) => unknown } | null>>;

/** The provider's parameters for a client body, per the table; anything not in the table is never sent either. */
export function mapParameters(body: Record<string, unknown>, table: ParameterTable): Record<string, unknown> {
  const mapped: Record<string, unknown> = {};
  for (const name in table) {
    const rule = table[name];
    const value = body[name];
    if (!rule || value === undefined || value === null) continue;
    const converted = rule.convert ? rule.convert(value) : value;
    if (converted !== undefined) mapped[rule.to] = converted;
  }
  return mapped;
}

export const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** A JSON object: `null` and arrays are none, though `typeof` says 'object'. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** OpenAI's `reasoning_effort` values that translating providers map to their own thinking settings. */
const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** A client's `reasoning_effort`; a value no provider table maps is refused with 400 rather than silently thought about at some other effort. */
export function reasoningEffort(value: unknown): ReasoningEffort {
  if ((REASONING_EFFORTS as readonly unknown[]).includes(value)) return value as ReasoningEffort;
  throw badRequest(`Invalid 'reasoning_effort': expected one of ${REASONING_EFFORTS.map((effort) => `'${effort}'`).join(', ')}, got '${shown(value)}'`, 'reasoning_effort', 'invalid_value');
}

/**
 * Translating providers speak only chat (the Messages API and Responses API routes reach them before
 * this, passed through or as chat): other endpoints get a clear 400 instead of a doomed upstream
 * call, naming the routes that do work.
 */
export function requireChat(request: InferenceRequest, provider: string, target: string): void {
  if (request.endpoint === 'chat') return;
  throw new ApiError(
    400,
    `Model '${request.model}' is served by ${provider} (target '${target}'), which supports only /v1/chat/completions, /v1/messages and /v1/responses, not /v1${ENDPOINTS[request.endpoint].path}`,
    'invalid_request_error',
    'unsupported_endpoint',
    'model',
  );
}

export function chatMessages(body: Record<string, unknown>): ChatMessage[] {
  const messages = body.messages as unknown[];
  messages.forEach((message, index) => {
    if (!message || typeof message !== 'object' || typeof (message as ChatMessage).role !== 'string') {
      throw badRequest(`messages[${index}] must be an object with a 'role'`, `messages[${index}]`, 'invalid_type');
    }
  });
  return messages as ChatMessage[];
}

/** A client's value as an error message names it. Not String(): a JSON object with a `toString` key cannot be converted. */
export const shown = (value: unknown): string => (typeof value === 'string' ? value : String(JSON.stringify(value)));

/** A message's content as text and image parts; parts a provider cannot take are refused with 400. */
export function contentParts(message: ChatMessage, index: number, provider: string): Part[] {
  const { content } = message;
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ kind: 'text', text: content }];
  if (!Array.isArray(content)) throw badRequest(`messages[${index}].content must be a string or an array of parts`, `messages[${index}].content`, 'invalid_type');
  return content.map((part, at): Part => {
    if (part?.type === 'text' && typeof part.text === 'string') return { kind: 'text', text: part.text };
    if (part?.type === 'image_url') {
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      if (typeof url === 'string') return { kind: 'image', url };
    }
    throw badRequest(`messages[${index}].content[${at}]: part type '${shown(part?.type)}' is not supported for ${provider}`, `messages[${index}].content`, 'unsupported_content');
  });
}

/** The plain text of a message (system prompts, tool results), images not allowed. */
export function textContent(message: ChatMessage, index: number, provider: string): string {
  return contentParts(message, index, provider)
    .map((part) => {
      if (part.kind === 'text') return part.text;
      throw badRequest(`messages[${index}]: images are only allowed in user messages`, `messages[${index}].content`, 'unsupported_content');
    })
    .join('');
}

/** `data:image/png;base64,....` (parameters such as `;name=a.png` allowed) split into media type and payload; undefined for other URLs. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+)(?:;[^;,]+)*?;base64,(.*)$/s.exec(url);
  return match ? { mediaType: match[1]!, data: match[2]! } : undefined;
}

type ToolCall = NonNullable<ChatMessage['tool_calls']>[number];

/** An assistant message's tool calls, each with a named function; anything else is refused with 400. */
export function toolCalls(message: ChatMessage, index: number): ToolCall[] {
  const calls: unknown = message.tool_calls;
  if (calls === undefined || calls === null) return [];
  if (!Array.isArray(calls) || calls.some((call) => typeof (call as ToolCall | null)?.function?.name !== 'string')) {
    throw badRequest(`messages[${index}].tool_calls must be an array of {id, type: 'function', function: {name, arguments}}`, `messages[${index}].tool_calls`, 'invalid_type');
  }
  return calls as ToolCall[];
}

/** Tool-call arguments arrive as a JSON string; providers want the object. */
export function parseArguments(json: string, index: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json === '' ? '{}' : json);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw badRequest(`messages[${index}].tool_calls: function arguments must be a JSON object string`, `messages[${index}].tool_calls`, 'invalid_tool_arguments');
}

export function chatTools(body: Record<string, unknown>): OpenAiTool[] | undefined {
  const tools = body.tools;
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools) || tools.some((tool) => typeof (tool as OpenAiTool)?.function?.name !== 'string')) {
    throw badRequest("'tools' must be an array of {type: 'function', function: {name, ...}}", 'tools', 'invalid_type');
  }
  return tools as OpenAiTool[];
}

/** Appends to the previous entry when the role repeats: both providers want strictly alternating turns. */
export function pushMerged<T>(turns: Array<{ role: string; items: T[] }>, role: string, items: T[]): void {
  if (items.length === 0) return;
  const last = turns.at(-1);
  if (last && last.role === role) last.items.push(...items);
  else turns.push({ role, items });
}

/** The OpenAI error body for a provider error. */
export function openAiError(status: number, message: string, type: string, code: string | null): { status: number; body: string } {
  return { status, body: JSON.stringify(new ApiError(status, message, type, code)) };
}
