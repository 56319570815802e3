import type { InferenceRequest, Usage } from '../../gateway/inference-request.js';
import type { StreamContext, StreamTranslator } from '../adapter.js';
import { anthropicErrorEvent } from '../anthropic/errors.js';
import { fromOpenAiUsage } from '../anthropic/response.js';
import { withoutKey } from '../key-echo.js';
import type { ChunkDelta } from '../openai-chunks.js';
import { SseParser, type SseEvent } from '../sse-parser.js';
import { messageId, stopOf, toolCallsOf } from './response.js';

/** A content block is text, or a tool use carrying the chat tool call of that index (which some engines leave out). */
type BlockKind = { text: true } | { text: false; toolCall: number | undefined; id: string | undefined };

const TEXT: BlockKind = { text: true };

interface ChatChunk {
  id?: string;
  choices?: Array<{ delta?: ChunkDelta; finish_reason?: string | null; stop_reason?: unknown }>;
  usage?: Usage | null;
  error?: { message?: unknown } | string | null;
}

/**
 * OpenAI chat chunks → the Messages API's event stream, as each chunk completes: `message_start`,
 * then one content block at a time (`content_block_start`, its deltas, `content_block_stop`;
 * text, or a tool use per tool call), and at `[DONE]` the `message_delta` with the stop reason and
 * usage, and `message_stop`. A stream cut short gets no `message_stop`, so it stays visibly
 * incomplete; an error chunk becomes Anthropic's `error` event and ends the translation.
 * `chat` translates the target's own stream to chat chunks first, when it speaks another format.
 */
export class MessagesStreamTranslator implements StreamTranslator {
  private readonly parser: SseParser;
  private started = false;
  /** Set once `message_stop` or an error event is written: nothing follows either. */
  private ended = false;
  /** The content block being streamed. */
  private open: (BlockKind & { index: number }) | undefined;
  private blocks = 0;
  private finishReason: string | null | undefined;
  private engineStop: unknown;
  private usage: Usage | undefined;

  constructor(
    private readonly request: InferenceRequest,
    private readonly chat: StreamTranslator | undefined,
    private readonly context: StreamContext,
  ) {
    this.parser = new SseParser(context.maxEventBytes);
  }

  push(chunk: Buffer): string {
    return this.translate(this.parser.push(this.chat ? Buffer.from(this.chat.push(chunk)) : chunk));
  }

  end(): string {
    const rest = this.chat ? this.translate(this.parser.push(Buffer.from(this.chat.end()))) : '';
    return rest + this.translate(this.parser.end());
  }

  private translate(events: SseEvent[]): string {
    let out = '';
    for (const { data } of events) {
      if (this.ended) break;
      if (data === '[DONE]') {
        out += this.finish();
        continue;
      }
      const chunk = chatChunk(data);
      if (chunk === undefined) {
        out += this.fail('The backend sent a stream event that is not a chat completion chunk');
        continue;
      }
      if (chunk.error !== undefined && chunk.error !== null) out += this.fail(errorText(chunk.error));
      else out += this.onChunk(chunk);
    }
    return out;
  }

  private onChunk(chunk: ChatChunk): string {
    let out = this.start(chunk.id);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const text = choice.delta?.content;
    if (typeof text === 'string' && text !== '') out += this.text(text);
    for (const call of toolCallsOf(choice.delta?.tool_calls)) out += this.toolCall(call);
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      this.engineStop = choice.stop_reason;
    }
    return out;
  }

  private start(id: unknown): string {
    if (this.started) return '';
    this.started = true;
    const usage = { input_tokens: 0, output_tokens: 0 };
    return event('message_start', { message: { id: messageId(id), type: 'message', role: 'assistant', model: this.request.model, content: [], stop_reason: null, stop_sequence: null, usage } });
  }

  private text(text: string): string {
    let out = '';
    if (!this.open?.text) out += this.openBlock({ type: 'text', text: '' }, TEXT);
    return out + event('content_block_delta', { index: this.open!.index, delta: { type: 'text_delta', text } });
  }

  /**
   * A call's first piece opens its tool-use block; later pieces (the same index, and no other id:
   * some engines repeat the id in every piece, or leave the index out) carry its arguments.
   */
  private toolCall(call: NonNullable<ChunkDelta['tool_calls']>[number]): string {
    let out = '';
    const id = call.id ?? undefined;
    const open = this.open;
    if (open === undefined || open.text || open.toolCall !== call.index || (id !== undefined && id !== open.id)) {
      out += this.openBlock({ type: 'tool_use', id, name: call.function?.name, input: {} }, { text: false, toolCall: call.index, id });
    }
    const json = call.function?.arguments;
    if (typeof json === 'string' && json !== '') out += event('content_block_delta', { index: this.open!.index, delta: { type: 'input_json_delta', partial_json: json } });
    return out;
  }

  private openBlock(block: Record<string, unknown>, kind: BlockKind): string {
    const out = this.closeBlock();
    this.open = { ...kind, index: this.blocks++ };
    return out + event('content_block_start', { index: this.open.index, content_block: block });
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    const { index } = this.open;
    this.open = undefined;
    return event('content_block_stop', { index });
  }

  private finish(): string {
    this.ended = true;
    const delta = stopOf(this.finishReason, this.engineStop, this.request.body);
    return this.start(undefined) + this.closeBlock() + event('message_delta', { delta, usage: fromOpenAiUsage(this.usage) }) + event('message_stop', {});
  }

  /** The error event that ends the stream; the target's message loses any echo of the router's key. */
  private fail(message: string): string {
    this.ended = true;
    return anthropicErrorEvent('api_error', withoutKey(message, this.context.apiKey));
  }
}

/** An event's data as a chat chunk, if it is a JSON object at all (`null`, a number or a string is none). */
function chatChunk(data: string): ChatChunk | undefined {
  try {
    const chunk: unknown = JSON.parse(data);
    return chunk !== null && typeof chunk === 'object' ? (chunk as ChatChunk) : undefined;
  } catch {
    return undefined;
  }
}

const event = (type: string, fields: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

const errorText = (error: { message?: unknown } | string): string =>
  typeof error === 'string' ? error : typeof error.message === 'string' ? error.message : 'The backend reported an error mid-stream';
