import { badRequest } from '../../server/errors.js';
import { reasoningEffort, type ChatMessage, type ReasoningEffort } from '../chat-translation.js';
import type { ChunkDelta, ThinkingBlock } from '../openai-chunks.js';
import { claudeVersion } from './model-version.js';

/**
 * Anthropic's extended thinking, through chat completions as LiteLLM carries it: `reasoning_effort`
 * becomes adaptive thinking at that effort, or a thinking budget for older models, the answer's thinking blocks come back as `reasoning_content` and
 * `thinking_blocks`, and the blocks an assistant message carries go back to Anthropic.
 */

/**
 * Fixed thinking budgets, for Claude models before adaptive thinking: LiteLLM's for `low` to `high`;
 * `minimal` gets Anthropic's smallest (LiteLLM's 128 is below it, and Anthropic refuses it); LiteLLM
 * has none for `xhigh` and `max`, which double the budget before them. `none` asks for no thinking.
 */
export const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number | undefined>> = { none: undefined, minimal: 1024, low: 1024, medium: 2048, high: 4096, xhigh: 8192, max: 16384 };

/** `output_config.effort` of adaptive thinking: Anthropic's levels are OpenAI's, but for `minimal`, which it lacks. */
const ADAPTIVE_EFFORTS: Readonly<Record<ReasoningEffort, string | undefined>> = { none: undefined, minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'max' };

/**
 * Whether a Claude model thinks adaptively (`thinking: {type: "adaptive"}`, its depth set by
 * `output_config.effort`): Opus and Sonnet from 4.6, every Claude 5, Mythos and Fable. The newest
 * refuse a fixed budget with a 400, and on 4.6 it is deprecated; older models know only budgets.
 */
export function thinksAdaptively(model: string): boolean {
  const version = claudeVersion(model);
  if (!version) return false;
  return version.major >= 5 || (version.major === 4 && version.minor >= 6 && version.family !== 'haiku');
}

/** The request fields of a `reasoning_effort` for `model`: adaptive thinking at that effort, or a fixed budget; none when the client set none. */
export function effortFields(effort: unknown, model: string): { thinking?: Record<string, unknown>; output_config?: { effort: string } } {
  if (effort === undefined || effort === null) return {};
  const level = reasoningEffort(effort);
  if (thinksAdaptively(model)) {
    const adaptive = ADAPTIVE_EFFORTS[level];
    return adaptive === undefined ? {} : { thinking: { type: 'adaptive' }, output_config: { effort: adaptive } };
  }
  const budget = THINKING_BUDGETS[level];
  return budget === undefined ? {} : { thinking: { type: 'enabled', budget_tokens: budget } };
}

/**
 * Anthropic refuses a `max_tokens` that is not above the thinking budget. Such a limit (the client's,
 * or the target's default) is raised by the budget, so that the answer after the thinking keeps the
 * room the limit gave it; a limit above the budget is the client's choice and stays.
 */
export function maxTokensWithThinking(maxTokens: unknown, thinking: unknown): unknown {
  const { type, budget_tokens: budget } = (thinking ?? {}) as { type?: unknown; budget_tokens?: unknown };
  if (type !== 'enabled' || typeof budget !== 'number' || typeof maxTokens !== 'number' || maxTokens > budget) return maxTokens;
  return budget + maxTokens;
}

/**
 * The thinking blocks an assistant message carries (as the client got them) as Anthropic blocks.
 * With thinking on, Anthropic requires the last assistant turn's signed thinking before its tool use.
 */
export function thinkingBlocks(message: ChatMessage, index: number): ThinkingBlock[] {
  const blocks = message.thinking_blocks;
  if (blocks === undefined || blocks === null) return [];
  const refused = () =>
    badRequest(
      `messages[${index}].thinking_blocks must be an array of {type: 'thinking', thinking, signature} or {type: 'redacted_thinking', data}`,
      `messages[${index}].thinking_blocks`,
      'invalid_type',
    );
  if (!Array.isArray(blocks)) throw refused();
  return blocks.map((block: unknown) => {
    const thinking = asThinkingBlock(block);
    if (!thinking) throw refused();
    return thinking;
  });
}

/** A block of an Anthropic answer as a thinking block, only its own fields; undefined for other blocks. */
export function asThinkingBlock(block: unknown): ThinkingBlock | undefined {
  const { type, thinking, signature, data } = (block ?? {}) as Record<string, unknown>;
  if (type === 'thinking' && typeof thinking === 'string' && typeof signature === 'string') return { type, thinking, signature };
  if (type === 'redacted_thinking' && typeof data === 'string') return { type, data };
  return undefined;
}

/** LiteLLM's reasoning fields of a message with thinking blocks: their text joined, and the blocks; none without any. */
export function reasoningFields(blocks: ThinkingBlock[]): Pick<ChunkDelta, 'reasoning_content' | 'thinking_blocks'> {
  if (blocks.length === 0) return {};
  return { reasoning_content: blocks.map((block) => (block.type === 'thinking' ? block.thinking : '')).join(''), thinking_blocks: blocks };
}

/** A streamed piece of a thinking block (its text, or its signature once the text is done), as LiteLLM streams it. */
export const thinkingDelta = (thinking: string, signature: string): ChunkDelta => reasoningFields([{ type: 'thinking', thinking, signature }]);
