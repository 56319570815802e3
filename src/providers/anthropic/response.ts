import type { Usage } from '../../gateway/inference-request.js';
import { tokenCount } from '../../gateway/usage-counts.js';
import type { FinishReason } from '../openai-chunks.js';
import { openAiError } from '../chat-translation.js';
import { fromAnthropicError } from './errors.js';
import { answerFinish } from './response-format.js';
import { asThinkingBlock, reasoningFields } from './thinking.js';

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

interface AnthropicMessage {
  id: string;
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown; thinking?: string; signature?: string; data?: string }>;
  stop_reason: string | null;
  usage?: AnthropicUsage;
}

// a map, not an object literal: a stop_reason such as 'constructor' must not find Object.prototype's
const FINISH_REASONS: ReadonlyMap<string, FinishReason> = new Map(Object.entries({
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
} as const));

export const finishReason = (stopReason: string | null | undefined): FinishReason => FINISH_REASONS.get(stopReason ?? '') ?? 'stop';

/** OpenAI finish reasons → Anthropic stop reasons: the first stop reason of the map that gives each. */
const STOP_REASONS: ReadonlyMap<string, string> = new Map([...FINISH_REASONS].reverse().map(([stop, finish]) => [finish, stop]));

/** The stop reason of an OpenAI finish reason; an unknown or missing one (a stream cut short by the engine) is the turn's end. */
export const stopReason = (finish: unknown): string => (typeof finish === 'string' ? STOP_REASONS.get(finish) : undefined) ?? 'end_turn';

/** Updates `usage` with a `message_delta`'s counts: totals so far, so they replace rather than add; a null count means "unchanged". */
export function updateUsage(usage: AnthropicUsage, delta: AnthropicUsage | undefined): void {
  for (const [field, count] of Object.entries(delta ?? {})) if (typeof count === 'number') usage[field as keyof AnthropicUsage] = count;
}

/** OpenAI counts cached and cache-written tokens in prompt_tokens, and tells both apart in its details; Anthropic reports them apart. */
export function toOpenAiUsage(usage: AnthropicUsage): Usage {
  const cached = tokenCount(usage.cache_read_input_tokens);
  const written = tokenCount(usage.cache_creation_input_tokens);
  const prompt = tokenCount(usage.input_tokens) + cached + written;
  const completion = tokenCount(usage.output_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: written } };
}

/** The inverse of toOpenAiUsage: cache reads and writes leave the input count (what OpenAI cannot tell apart counts as uncached input). */
export function fromOpenAiUsage(usage: Usage | null | undefined): Required<Pick<AnthropicUsage, 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'>> {
  const cached = tokenCount(usage?.prompt_tokens_details?.cached_tokens);
  const written = tokenCount(usage?.prompt_tokens_details?.cache_write_tokens);
  return {
    input_tokens: Math.max(0, tokenCount(usage?.prompt_tokens) - cached - written),
    output_tokens: tokenCount(usage?.completion_tokens),
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: written,
  };
}

/**
 * A whole Messages API answer (any status) as an OpenAI `chat.completion` or error. Calls of
 * `answerTool` (see response-format.ts) are the answer: their input's JSON is the content, and the
 * text the model wrote before it (unforced, while thinking or with the client's tools) is left
 * out, as LiteLLM leaves it, so that the content parses as the JSON the client asked for.
 */
export function fromAnthropicResponse(status: number, body: Buffer, model: string, answerTool?: string): { status: number; body: string } {
  const text = body.toString();
  if (status >= 300) return fromAnthropicError(status, text);
  let message: AnthropicMessage;
  try {
    message = JSON.parse(text) as AnthropicMessage;
    if (!Array.isArray(message.content)) throw new Error('no content');
  } catch {
    return openAiError(502, 'Anthropic returned a response that is not a Messages API message', 'upstream_error', 'bad_gateway');
  }
  // a block that is no object (null from a proxy's rewrite) is no content
  const blocks = message.content.filter((block) => block !== null && typeof block === 'object');
  const isAnswer = (block: AnthropicMessage['content'][number]) => block.type === 'tool_use' && block.name === answerTool;
  const answers = blocks.filter(isAnswer).map((block) => JSON.stringify(block.input ?? {}));
  const texts = answers.length > 0 ? answers : blocks.filter((block) => block.type === 'text').map((block) => block.text ?? '');
  const toolCalls = blocks
    .filter((block) => block.type === 'tool_use' && !isAnswer(block))
    .map((block) => ({ id: block.id!, type: 'function', function: { name: block.name!, arguments: JSON.stringify(block.input ?? {}) } }));
  const thinking = blocks.map(asThinkingBlock).filter((block) => block !== undefined);
  const completion = {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: texts.length > 0 ? texts.join('') : null,
          refusal: null,
          ...reasoningFields(thinking),
          ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
        },
        finish_reason: answerFinish(finishReason(message.stop_reason), blocks.some(isAnswer), toolCalls.length),
        logprobs: null,
      },
    ],
    usage: toOpenAiUsage(message.usage ?? {}),
  };
  return { status: 200, body: JSON.stringify(completion) };
}
