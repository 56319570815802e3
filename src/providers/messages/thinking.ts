import { badRequest } from '../../server/errors.js';
import { THINKING_BUDGETS } from '../anthropic/thinking.js';
import { shown, type ReasoningEffort } from '../chat-translation.js';

/**
 * A Messages request's `thinking` as the chat request's `reasoning_effort`, as LiteLLM's Messages
 * adapter carries it to targets other than Claude. The router writes only the efforts every target
 * that reasons takes: vLLM and OpenAI's o-series refuse anything but `low`, `medium` and `high`
 * (Gemini maps the efforts above `high` as `high` anyway), and `none` only to targets whose chat
 * the router translates itself (Gemini), as vLLM and OpenAI's older reasoning models refuse it too.
 */

type SentEffort = Extract<ReasoningEffort, 'low' | 'medium' | 'high'>;

/** Largest first: a budget gets the highest effort whose budget it reaches (the inverse of the Anthropic translation's, LiteLLM's thresholds). */
const BUDGETED_EFFORTS: readonly SentEffort[] = ['high', 'medium', 'low'];

/** Anthropic's `output_config.effort` levels: those above `high` are sent as `high`. A map: a level such as 'constructor' must find nothing. */
const ADAPTIVE_EFFORTS: ReadonlyMap<string, SentEffort> = new Map(Object.entries({ low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' } as const));

/** Adaptive thinking without an effort thinks at Anthropic's default effort. */
const DEFAULT_ADAPTIVE_EFFORT: SentEffort = 'high';

/**
 * The `reasoning_effort` of a Messages body, which validateMessagesBody has found well formed:
 * a fixed budget by LiteLLM's thresholds (1024 `low`, 2048 `medium`, 4096 and above `high`),
 * adaptive thinking by its `output_config.effort`, disabled thinking `none` when `takesNone`
 * (else none is sent, and the model reasons as it does by default); none without `thinking`.
 */
export function chatReasoningEffort(body: Record<string, unknown>, takesNone: boolean): ReasoningEffort | undefined {
  const { type, budget_tokens: budget } = (body.thinking ?? {}) as { type?: unknown; budget_tokens?: number };
  switch (type) {
    case 'enabled':
      return BUDGETED_EFFORTS.find((effort) => budget! >= THINKING_BUDGETS[effort]!);
    case 'adaptive':
      return adaptiveEffort(body.output_config);
    case 'disabled':
      return takesNone ? 'none' : undefined;
  }
  return undefined;
}

/** An effort level Anthropic may add is Anthropic's to judge: a translated target refuses one it cannot map, rather than think at a guess. */
function adaptiveEffort(outputConfig: unknown): SentEffort {
  const level = (outputConfig as { effort?: unknown } | null | undefined)?.effort;
  if (level === undefined || level === null) return DEFAULT_ADAPTIVE_EFFORT;
  const effort = ADAPTIVE_EFFORTS.get(level as string);
  if (effort === undefined) throw badRequest(`output_config.effort: effort '${shown(level)}' is not supported for this model`, 'output_config.effort', 'unsupported_value');
  return effort;
}
