import type { Usage } from '../../gateway/inference-request.js';
import { openAiError } from '../chat-translation.js';
import type { FinishReason, ToolCallDelta } from '../openai-chunks.js';
import { fromGoogleError, type GoogleError } from './errors.js';
import { idWithSignature } from './thought-signature.js';

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: { id?: string; name: string; args?: unknown };
}

export interface GeminiCandidate {
  index?: number;
  content?: { parts?: GeminiPart[] };
  finishReason?: string;
  /** Gemini's explanation of the finish reason, when it gives one. */
  finishMessage?: string;
}

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsage;
  responseId?: string;
  error?: GoogleError;
}

/**
 * Gemini's finish reasons (the API's FinishReason enum) that end an answer, in OpenAI's terms.
 * Reasons that leave no usable answer are not here: see FAILED_FINISHES. An unknown (newer) reason is `stop`.
 */
const FINISH_REASONS: ReadonlyMap<string, FinishReason> = new Map(Object.entries({
  STOP: 'stop',
  MAX_TOKENS: 'length',
  // withheld or cut by Google's filters: the client is told the answer is not the model's whole one
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  LANGUAGE: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
  IMAGE_PROHIBITED_CONTENT: 'content_filter',
  IMAGE_RECITATION: 'content_filter',
  // no more specific reason given; images are not relayed by chat completions anyway
  OTHER: 'stop',
  FINISH_REASON_UNSPECIFIED: 'stop',
  NO_IMAGE: 'stop',
  IMAGE_OTHER: 'stop',
} as const));

/** The finish reasons of answers Google's filters withheld or cut: the content-policy fallback trigger reads them in Gemini's own answers. */
export const FILTERED_FINISH_REASONS: readonly string[] = [...FINISH_REASONS].filter(([, reason]) => reason === 'content_filter').map(([name]) => name);

/**
 * Finish reasons after which the answer is unusable: a tool-calling client that read them as `stop`
 * would take leftover text for the answer, and as `tool_calls` would find no call to run. The client
 * gets an error instead, as OpenAI answers when its own model produced invalid output (a 5xx the
 * SDKs retry); a request Gemini refuses for what the client sent is a 400.
 */
const FAILED_FINISHES: ReadonlyMap<string, { status: number; type: string; message: string }> = new Map(Object.entries({
  MALFORMED_FUNCTION_CALL: { status: 502, type: 'upstream_error', message: 'the model produced an invalid function call' },
  UNEXPECTED_TOOL_CALL: { status: 502, type: 'upstream_error', message: 'the model called a tool the request did not offer' },
  TOO_MANY_TOOL_CALLS: { status: 502, type: 'upstream_error', message: 'the model made too many tool calls in a row' },
  MALFORMED_RESPONSE: { status: 502, type: 'upstream_error', message: 'the model produced a malformed response' },
  MISSING_THOUGHT_SIGNATURE: {
    status: 400,
    type: 'invalid_request_error',
    message: 'a function call in the history lacks its thought signature (send tool_calls[].extra_content.google.thought_signature back as received)',
  },
}));

/** A candidate that stopped normally after calling functions finished for tool calls, in OpenAI's terms. */
export function finishReason(reason: string, calledFunctions: boolean): FinishReason {
  const mapped = FINISH_REASONS.get(reason) ?? 'stop';
  return mapped === 'stop' && calledFunctions ? 'tool_calls' : mapped;
}

/** The error a client gets for a candidate whose finish reason leaves no usable answer; undefined for the others. */
export function finishFailure(candidate: GeminiCandidate): { status: number; type: string; code: string; message: string } | undefined {
  const reason = candidate.finishReason ?? '';
  const failure = FAILED_FINISHES.get(reason);
  if (!failure) return undefined;
  const details = typeof candidate.finishMessage === 'string' && candidate.finishMessage !== '' ? `: ${candidate.finishMessage}` : '';
  return { status: failure.status, type: failure.type, code: reason.toLowerCase(), message: `Gemini: ${failure.message} (finishReason ${reason})${details}` };
}

/** The text of the parts that are thoughts (the model's reasoning), or of those that are not (the answer). */
const textOf = (parts: readonly GeminiPart[], thoughts: boolean): string =>
  parts.filter((part) => part.text !== undefined && (part.thought === true) === thoughts).map((part) => part.text).join('');

export const answerText = (parts: readonly GeminiPart[]): string => textOf(parts, false);

/** Gemini sends thoughts (summaries of its reasoning) only when asked to: see thinking.ts. */
export const thoughtText = (parts: readonly GeminiPart[]): string => textOf(parts, true);

/**
 * An OpenAI tool call for a function-call part. Its thought signature rides along where Google's own
 * OpenAI-compatible API puts it (`extra_content.google.thought_signature`) and in the id (see
 * idWithSignature), so that a client that sends the message back hands Gemini the signature it requires.
 */
export function toolCall(part: GeminiPart, fallbackId: string): Omit<ToolCallDelta, 'index'> & { id: string } {
  const call = part.functionCall!;
  return {
    id: idWithSignature(call.id ?? `call_${fallbackId}`, part.thoughtSignature),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
    ...(part.thoughtSignature !== undefined && { extra_content: { google: { thought_signature: part.thoughtSignature } } }),
  };
}

export function toOpenAiUsage(usage: GeminiUsage): Usage {
  const prompt = usage.promptTokenCount ?? 0;
  // OpenAI counts reasoning tokens as completion tokens, and tells how many of them were reasoning
  const completion = (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.totalTokenCount ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    ...(usage.thoughtsTokenCount !== undefined && { completion_tokens_details: { reasoning_tokens: usage.thoughtsTokenCount } }),
  };
}

export const responseId = (response: GeminiResponse): string => `chatcmpl-${response.responseId ?? Math.random().toString(36).slice(2)}`;

/** A whole generateContent answer (any status) as an OpenAI `chat.completion` or error. */
export function fromGeminiResponse(status: number, body: Buffer, model: string): { status: number; body: string } {
  const text = body.toString();
  if (status >= 300) return fromGoogleError(status, text);
  let response: GeminiResponse;
  try {
    response = JSON.parse(text) as GeminiResponse;
  } catch {
    return openAiError(502, 'Gemini returned a response that is not JSON', 'upstream_error', 'bad_gateway');
  }
  const id = responseId(response);
  const candidates = response.candidates ?? [];
  const failure = candidates.map(finishFailure).find((found) => found !== undefined);
  if (failure) return openAiError(failure.status, failure.message, failure.type, failure.code);
  if (candidates.length === 0 && !response.promptFeedback?.blockReason) return openAiError(502, 'Gemini returned no candidates', 'upstream_error', 'bad_gateway');
  // a blocked prompt has no candidates at all, only the reason
  const choices =
    candidates.length === 0 && response.promptFeedback?.blockReason
      ? [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, finish_reason: 'content_filter', logprobs: null }]
      : candidates.map((candidate, position) => {
          const parts = candidate.content?.parts ?? [];
          const calls = parts.filter((part) => part.functionCall).map((part, at) => toolCall(part, `${id}_${position}_${at}`));
          const content = answerText(parts);
          const reasoning = thoughtText(parts);
          return {
            index: candidate.index ?? position,
            message: {
              role: 'assistant',
              content: content === '' && calls.length > 0 ? null : content,
              refusal: null,
              ...(reasoning !== '' && { reasoning_content: reasoning }),
              ...(calls.length > 0 && { tool_calls: calls }),
            },
            finish_reason: finishReason(candidate.finishReason ?? 'STOP', calls.length > 0),
            logprobs: null,
          };
        });
  const completion = { id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model, choices, usage: toOpenAiUsage(response.usageMetadata ?? {}) };
  return { status: 200, body: JSON.stringify(completion) };
}
