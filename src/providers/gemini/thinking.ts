import { reasoningEffort, type ReasoningEffort } from '../chat-translation.js';

/**
 * `reasoning_effort` in Gemini's terms, as Google's own OpenAI-compatible endpoint maps it. Models
 * before Gemini 3 take a budget in tokens (0 turns thinking off). Google maps no effort above
 * `high`: `xhigh` and `max` get the most it does (24576 is 2.5 Flash's largest budget).
 */
const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = { none: 0, minimal: 1024, low: 1024, medium: 8192, high: 24576, xhigh: 24576, max: 24576 };

/** Gemini 3 takes a level instead, and never stops thinking: `none` gets the least a model has. Flash models have four levels. */
const FLASH_LEVELS: Readonly<Record<ReasoningEffort, string>> = { none: 'minimal', minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' };

/** Gemini 3 Pro has only `low` and `high`, and refuses the others. */
const PRO_LEVELS: Readonly<Record<ReasoningEffort, string>> = { none: 'low', minimal: 'low', low: 'low', medium: 'high', high: 'high', xhigh: 'high', max: 'high' };

const GENERATION = /gemini-(\d+)/;

/**
 * Gemini 2.5 Pro cannot stop thinking and refuses a budget of 0 (or any below 128): turning its
 * thinking off gets the least it does, as Gemini 3 gets its least level.
 */
const LEAST_PRO_BUDGET = 128;

const budgetFor = (budget: number, model: string): number => (budget === 0 && model.includes('pro') ? LEAST_PRO_BUDGET : budget);

/**
 * The `generationConfig.thinkingConfig` of a chat request for `model`: from Anthropic's `thinking`
 * parameter, which LiteLLM takes for Gemini too (and which wins), or from `reasoning_effort`; none
 * when the client sets neither, and the model's own default stands.
 */
export function thinkingConfig(body: Record<string, unknown>, model: string): Record<string, unknown> | undefined {
  const effort = body.reasoning_effort;
  // refused even when `thinking` wins, as the Anthropic translation refuses it
  const level = effort === undefined || effort === null ? undefined : reasoningEffort(effort);
  const { type, budget_tokens: budget } = (body.thinking ?? {}) as { type?: unknown; budget_tokens?: unknown };
  if (type === 'enabled' && typeof budget === 'number') return { thinkingBudget: budget, includeThoughts: true };
  // thinking off, as an effort of `none` turns it off
  const wanted = type === 'disabled' ? 'none' : level;
  if (wanted === undefined) return undefined;
  const generation = Number(GENERATION.exec(model)?.[1] ?? 0);
  const thinking = generation >= 3 ? { thinkingLevel: (model.includes('flash') ? FLASH_LEVELS : PRO_LEVELS)[wanted] } : { thinkingBudget: budgetFor(THINKING_BUDGETS[wanted], model) };
  // Gemini returns thoughts only when asked to; a client that asked for no reasoning gets none
  return wanted === 'none' ? thinking : { ...thinking, includeThoughts: true };
}
