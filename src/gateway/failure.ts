import type { IncomingHttpHeaders } from 'node:http';
import type { FailureTrigger } from '../config/policies-schema.js';
import { FILTERED_FINISH_REASONS } from '../providers/gemini/response.js';

/** One failed attempt, as the retry and fallback rules see it. */
export interface AttemptFailure {
  trigger: FailureTrigger;
  message: string;
  /** What the upstream asked for with `retry-after` / `retry-after-ms`. */
  retryAfterMs?: number;
}

// vLLM/SGLang: "This model's maximum context length is 4096 tokens. However, you requested ...", or
// "... is longer than the model's context length"; OpenAI: code context_length_exceeded; Anthropic:
// "prompt is too long: 210000 tokens > 200000 maximum"; Gemini: "exceeds the maximum number of tokens".
const CONTEXT_WINDOW = /context_length_exceeded|maximum context length|model's context length|context window|prompt is too long|exceeds the maximum number of tokens|input is too long|too many input tokens/i;
// OpenAI: content_policy_violation; Azure OpenAI: content_filter / ResponsibleAIPolicyViolation;
// Anthropic and Gemini refusals name the policy or safety system.
const CONTENT_POLICY = /content_policy_violation|content_filter|ResponsibleAIPolicyViolation|content management policy|violat\w* (our|the) (usage|content) polic|blocked (due to|by) safety|SAFETY/;

/** Classifies an upstream error answer; undefined when no trigger applies (the answer is relayed as is). */
export function classifyStatus(status: number, headers: IncomingHttpHeaders, body: Buffer): AttemptFailure | undefined {
  const retryAfterMs = retryAfter(headers);
  const text = body.length > 65_536 ? body.subarray(0, 65_536).toString() : body.toString();
  const message = `answered ${status}`;
  if (status === 429) return { trigger: 'rate_limit', message, retryAfterMs };
  if (status >= 500) return { trigger: 'server_error', message, retryAfterMs };
  if (status >= 400) {
    if (CONTEXT_WINDOW.test(text)) return { trigger: 'context_window', message: `${message}: context window exceeded` };
    if (CONTENT_POLICY.test(text)) return { trigger: 'content_policy', message: `${message}: content policy refusal` };
  }
  return undefined;
}

// OpenAI and Azure end a filtered answer with finish_reason "content_filter"; Anthropic with stop_reason
// "refusal"; Gemini with a finishReason its translation calls content_filter, or blocks the prompt
// (promptFeedback.blockReason).
const REFUSED_ANSWER = new RegExp(
  `"finish_reason"\\s*:\\s*"content_filter"|"stop_reason"\\s*:\\s*"refusal"|"finishReason"\\s*:\\s*"(?:${FILTERED_FINISH_REASONS.join('|')})"|"blockReason"\\s*:`,
);

/** A complete (non-streamed) answer that the provider's content policy cut off or refused. */
export function classifyAnswer(body: Buffer): AttemptFailure | undefined {
  return REFUSED_ANSWER.test(body.toString()) ? { trigger: 'content_policy', message: 'answer refused by a content policy' } : undefined;
}

/** Connection failures and per-attempt timeouts, from undici's error codes. */
export function classifyError(error: Error & { code?: string }): AttemptFailure {
  const message = error.message || String(error);
  if (error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_CONNECT_TIMEOUT') return { trigger: 'timeout', message: `timed out: ${message}` };
  return { trigger: 'connection', message };
}

/** `retry-after-ms` (OpenAI, Anthropic), else `retry-after` in seconds or as an HTTP date. */
export function retryAfter(headers: IncomingHttpHeaders): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Exponential backoff with jitter: between half and all of base·2^(retry−1), capped. */
export function backoffMs(retry: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
