import type { Usage } from '../gateway/inference-request.js';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
  /** Provider data a client must send back with the call (Gemini's thought signature). */
  extra_content?: { google: { thought_signature: string } };
}

/** An Anthropic thinking block as LiteLLM hands it to OpenAI clients (`message.thinking_blocks`), for them to send back. */
export type ThinkingBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string };

export interface ChunkDelta {
  role?: 'assistant';
  content?: string;
  /** The model's reasoning, apart from the answer (LiteLLM's, DeepSeek's and vLLM's field). */
  reasoning_content?: string;
  thinking_blocks?: ThinkingBlock[];
  tool_calls?: ToolCallDelta[];
}

export const DONE_EVENT = 'data: [DONE]\n\n';

/** Writes OpenAI `chat.completion.chunk` SSE events for one translated stream. */
export class ChunkWriter {
  /** Set from the provider's first event, which names the message. */
  id = '';
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(private readonly model: string) {}

  delta(delta: ChunkDelta, index = 0): string {
    return this.event([{ index, delta, finish_reason: null, logprobs: null }]);
  }

  finish(reason: FinishReason, index = 0): string {
    return this.event([{ index, delta: {}, finish_reason: reason, logprobs: null }]);
  }

  /** The extra last chunk of `stream_options.include_usage`: no choices, only usage. */
  usage(usage: Usage): string {
    return this.event([], usage);
  }

  private event(choices: unknown[], usage?: Usage): string {
    const chunk = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices, ...(usage && { usage }) };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}

/** Whether the client asked for the final usage chunk. */
export function wantsUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  return options?.include_usage === true;
}

/** A chat chunk's data as a client API's translation reads it, if it is a JSON object at all (`null`, a number or a string is none). */
export function parsedChunk<Chunk extends object>(data: string): Chunk | undefined {
  try {
    const chunk: unknown = JSON.parse(data);
    return chunk !== null && typeof chunk === 'object' ? (chunk as Chunk) : undefined;
  } catch {
    return undefined;
  }
}

/** The message of a chat stream's error chunk (`{"error": …}`). */
export const chunkErrorText = (error: { message?: unknown } | string): string =>
  typeof error === 'string' ? error : typeof error.message === 'string' ? error.message : 'The backend reported an error mid-stream';
