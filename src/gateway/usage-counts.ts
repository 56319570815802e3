import type { Usage } from './inference-request.js';

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isAbsentOrCount = (value: unknown): boolean => value === undefined || isCount(value);

/** A count a backend reported, as a number: what is none (a string, null, NaN, a negative) counts 0 rather than concatenating or turning a sum NaN. */
export const tokenCount = (value: unknown): number => (isCount(value) ? value : 0);

/**
 * A backend's usage with only its counts that are counts (finite, not negative): an answer is
 * read, never trusted, and a string or NaN there made the metrics throw as the request was
 * accounted (the request log lost it). The usage itself when it is sound, as every engine's is;
 * none when it has no count at all, so that the request is charged an estimate as without usage.
 */
export function countedUsage(usage: unknown): Usage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total, prompt_tokens_details: details } = usage as Record<keyof Usage, unknown>;
  const cached = (details as { cached_tokens?: unknown } | null | undefined)?.cached_tokens;
  if (isAbsentOrCount(prompt) && isAbsentOrCount(completion) && isAbsentOrCount(total) && isAbsentOrCount(cached)) return usage as Usage;
  if (!isCount(prompt) && !isCount(completion) && !isCount(total)) return undefined;
  const counted: Usage = {};
  if (isCount(prompt)) counted.prompt_tokens = prompt;
  if (isCount(completion)) counted.completion_tokens = completion;
  if (isCount(total)) counted.total_tokens = total;
  if (isCount(cached)) counted.prompt_tokens_details = { cached_tokens: cached };
  return counted;
}
