import type { InferenceRequest, Usage } from '../../gateway/inference-request.js';
import { fromOpenAiUsage, stopReason, toOpenAiUsage, type AnthropicUsage } from '../anthropic/response.js';
import { routerId } from '../router-id.js';
import { messagesErrorBody } from './errors.js';

/** Where engines put their reasoning in a chat message or delta (see reasoningOf). */
export interface Reasoning {
  reasoning_content?: unknown;
  reasoning?: unknown;
}

interface ChatCompletion {
  id?: string;
  choices?: Array<{
    message?: Reasoning & { content?: string | null; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }> };
    finish_reason?: string | null;
    /** vLLM and SGLang: the stop string that ended the answer. */
    stop_reason?: unknown;
  }>;
  usage?: Usage | null;
}

/** A chat answer (any status) as a Messages API message or Anthropic error. */
export function toMessagesResponse(status: number, body: Buffer | string, request: InferenceRequest): { status: number; body: string } {
  const text = body.toString();
  if (status >= 300) return { status, body: messagesErrorBody(status, errorMessage(text, status)) };
  let completion: ChatCompletion;
  try {
    completion = JSON.parse(text) as ChatCompletion;
    if (!Array.isArray(completion.choices)) throw new Error('no choices');
  } catch {
    return { status: 502, body: messagesErrorBody(502, 'The backend returned a response that is not a chat completion') };
  }
  const choice = completion.choices[0];
  const content: Array<Record<string, unknown>> = [];
  const reasoning = showsThinking(request.body) ? reasoningOf(choice?.message) : undefined;
  if (reasoning !== undefined) content.push(thinkingBlock(reasoning));
  const answer = choice?.message?.content;
  if (typeof answer === 'string' && answer !== '') content.push({ type: 'text', text: answer });
  for (const call of toolCallsOf(choice?.message?.tool_calls)) {
    content.push({ type: 'tool_use', id: toolUseId(engineCallId(call.id)), name: toolName(call.function?.name), input: toolInput(call.function?.arguments) });
  }
  const message = {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: request.model,
    content,
    ...stopOf(choice?.finish_reason, choice?.stop_reason, request.body),
    usage: fromOpenAiUsage(completion.usage),
  };
  return { status: 200, body: JSON.stringify(message) };
}

/**
 * Anthropic's id for a message answered by a chat target: `msg_` and the engine's own id (less its
 * `chatcmpl-`), so that the router's logs and the engine's still match; one of its own when the engine gave none.
 */
export function messageId(chatId: unknown): string {
  return typeof chatId === 'string' && chatId !== '' ? `msg_${chatId.replace(/^chatcmpl-/, '')}` : routerId('msg');
}

/** An engine's tool call id, when it gave one: an empty one is none, as DashScope (Qwen) sends it on every piece after a call's first. */
export const engineCallId = (id: unknown): string | undefined => (typeof id === 'string' && id !== '' ? id : undefined);

/**
 * A tool use's id: the engine's call id, or one of the router's when it gave none, as the client
 * answers the call by it (`tool_result.tool_use_id`) and Anthropic's blocks always have one.
 */
export const toolUseId = (engineId: string | undefined): string => engineId ?? routerId('toolu');

/** A tool use's name: Anthropic's is always a string, whatever an engine sent. */
export const toolName = (name: unknown): string => (typeof name === 'string' ? name : '');

/**
 * Whether the client asked for the model's thinking, which Anthropic answers only then (`thinking`
 * of any type but `disabled`, not `display: omitted`): a client that did not reads text first.
 */
export function showsThinking(body: Record<string, unknown>): boolean {
  const { type, display } = (body.thinking ?? {}) as { type?: unknown; display?: unknown };
  return typeof type === 'string' && type !== 'disabled' && display !== 'omitted';
}

/** The reasoning an engine returns apart from the answer, in a chat message or delta: `reasoning_content` (DeepSeek, SGLang, vLLM before 0.17), or `reasoning` (vLLM since). */
export function reasoningOf(message: Reasoning | undefined): string | undefined {
  const reasoning = message?.reasoning_content ?? message?.reasoning;
  return typeof reasoning === 'string' && reasoning !== '' ? reasoning : undefined;
}

/** A thinking block of an engine's reasoning: its signature is Anthropic's proof of its own thinking, which no other target has, so it is empty. */
export const thinkingBlock = (thinking: string): Record<string, unknown> => ({ type: 'thinking', thinking, signature: '' });

/** A Messages API usage in the shape the rest of the router counts in (metrics, spend, TPM limits, the request log). */
export function usageOfMessages(usage: unknown): Usage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  return toOpenAiUsage(usage as AnthropicUsage);
}

/**
 * The stop reason and sequence of a chat answer. OpenAI does not say which stop string ended an
 * answer; the engines do (`stop_reason`), and one the client asked for is Anthropic's `stop_sequence`.
 */
export function stopOf(finishReason: unknown, engineStop: unknown, body: Record<string, unknown>): { stop_reason: string; stop_sequence: string | null } {
  const asked = body.stop_sequences;
  if (finishReason === 'stop' && typeof engineStop === 'string' && Array.isArray(asked) && asked.includes(engineStop)) return { stop_reason: 'stop_sequence', stop_sequence: engineStop };
  return { stop_reason: stopReason(finishReason), stop_sequence: null };
}

/** The tool calls of a chat message or delta that are objects at all: a backend's answer is read, never trusted. */
export function toolCallsOf<Call extends object>(calls: readonly Call[] | null | undefined): Call[] {
  return Array.isArray(calls) ? calls.filter((call) => call !== null && typeof call === 'object') : [];
}

/** A tool call's arguments as the object Anthropic's `input` is; arguments that are not a JSON object are kept whole under `arguments`. */
function toolInput(json: unknown): unknown {
  if (typeof json !== 'string' || json === '') return {};
  try {
    const input: unknown = JSON.parse(json);
    if (input && typeof input === 'object' && !Array.isArray(input)) return input;
  } catch {
    // kept as text below
  }
  return { arguments: json };
}

/** The message of an OpenAI error body, or the body's start when it is something else. */
function errorMessage(text: string, status: number): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: its text below
  }
  return text.slice(0, 500) || `the backend answered ${status}`;
}
