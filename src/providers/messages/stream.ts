import type { InferenceRequest, Usage } from '../../gateway/inference-request.js';
import type { StreamContext, StreamTranslator } from '../adapter.js';
import { anthropicErrorEvent } from '../anthropic/errors.js';
import { fromOpenAiUsage } from '../anthropic/response.js';
import { withoutKey } from '../key-echo.js';
import type { ChunkDelta } from '../openai-chunks.js';
import { SseParser, type SseEvent } from '../sse-parser.js';
import { JsonObjectText } from './json-object-text.js';
import { messageId, reasoningOf, type Reasoning, showsThinking, stopOf, thinkingBlock, toolCallsOf } from './response.js';

/** A chat tool call as the stream has had it so far: its arguments are kept to tell when they are whole. */
interface ToolCall {
  type: 'tool_use';
  /** The chat tool call's index, which some engines leave out (or give every call alike). */
  index: number | undefined;
  id: string | undefined;
  name: unknown;
  arguments: JsonObjectText;
}

/** A text or thinking block, with what it has had so far. */
interface Prose {
  type: 'text' | 'thinking';
  content: string;
}

/** A content block, with what it has had so far. */
type Block = ToolCall | Prose;

interface ChatChunk {
  id?: string;
  choices?: Array<{ delta?: ChunkDelta & Reasoning; finish_reason?: string | null; stop_reason?: unknown }>;
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
  private readonly relaysThinking: boolean;
  private started = false;
  /** Set once `message_stop` or an error event is written: nothing follows either. */
  private ended = false;
  /** The content block being streamed, at its index in the message. */
  private open: { block: Block; index: number } | undefined;
  /** Blocks begun while the open one may still grow (an engine that interleaves parallel tool calls), in the order they began. */
  private readonly waiting: Block[] = [];
  /** Every tool call begun, to tell which one a piece continues. */
  private readonly calls: ToolCall[] = [];
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
    this.relaysThinking = showsThinking(request.body);
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
    const reasoning = this.relaysThinking ? reasoningOf(choice.delta) : undefined;
    if (reasoning !== undefined) out += this.prose('thinking', reasoning);
    const text = choice.delta?.content;
    if (typeof text === 'string' && text !== '') out += this.prose('text', text);
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

  private prose(type: Prose['type'], content: string): string {
    if (this.open?.block.type === type) return proseDelta(this.open.index, type, content);
    const last = this.waiting.at(-1);
    if (last?.type === type) last.content += content;
    else this.waiting.push({ type, content });
    return this.advance(false);
  }

  /**
   * A piece of a tool call: its first opens a tool-use block, or waits its turn while the open one
   * may still grow; later pieces carry its arguments. Anthropic's blocks come one after another, so
   * a piece of a call whose block is closed has nowhere to go and is dropped: a block is closed
   * early only when its arguments are a whole JSON object, which nothing valid can follow.
   */
  private toolCall(piece: NonNullable<ChunkDelta['tool_calls']>[number]): string {
    let call = this.callOf(piece);
    if (call === undefined) {
      call = { type: 'tool_use', index: piece.index, id: idOf(piece), name: piece.function?.name, arguments: new JsonObjectText() };
      this.calls.push(call);
      this.waiting.push(call);
    }
    let out = '';
    const json = piece.function?.arguments;
    if (typeof json === 'string' && json !== '') {
      if (this.open?.block === call) out += event('content_block_delta', { index: this.open.index, delta: { type: 'input_json_delta', partial_json: json } });
      if (this.open?.block === call || this.waiting.includes(call)) call.arguments.append(json);
    }
    return out + this.advance(false);
  }

  /** The call a piece continues: the one of its id (some engines repeat it in every piece), else the last of its index, or the last at all when it has none. */
  private callOf(piece: NonNullable<ChunkDelta['tool_calls']>[number]): ToolCall | undefined {
    const id = idOf(piece);
    if (id !== undefined) return this.calls.findLast((call) => call.id === id);
    return this.calls.findLast((call) => piece.index === undefined || call.index === piece.index);
  }

  /**
   * Closes the open block and opens the next waiting one, with what it has had so far, while the
   * open one is done: text or thinking is once another block has begun, a tool use once its arguments are a
   * whole JSON object (else the engine may yet send more of them), any block when `all`.
   */
  private advance(all: boolean): string {
    let out = '';
    while (this.waiting.length > 0 && (all || this.open === undefined || isDone(this.open.block))) {
      out += this.closeBlock();
      const block = this.waiting.shift()!;
      const index = this.blocks++;
      this.open = { block, index };
      if (block.type !== 'tool_use') {
        out += event('content_block_start', { index, content_block: block.type === 'text' ? { type: 'text', text: '' } : thinkingBlock('') });
        out += proseDelta(index, block.type, block.content);
      } else {
        out += event('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        if (block.arguments.text !== '') out += event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: block.arguments.text } });
      }
    }
    return out;
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
    return this.start(undefined) + this.advance(true) + this.closeBlock() + event('message_delta', { delta, usage: fromOpenAiUsage(this.usage) }) + event('message_stop', {});
  }

  /** The error event that ends the stream; the target's message loses any echo of the router's key. */
  private fail(message: string): string {
    this.ended = true;
    return anthropicErrorEvent('api_error', withoutKey(message, this.context.apiKey));
  }
}

/** A piece's tool call id: none when empty, as DashScope sends it on every piece after a call's first. */
const idOf = (piece: NonNullable<ChunkDelta['tool_calls']>[number]): string | undefined => piece.id || undefined;

/** Whether a block is done: text or thinking is once another block has begun, a tool use once its arguments are a whole JSON object. */
const isDone = (block: Block): boolean => block.type !== 'tool_use' || block.arguments.whole;

/** An event's data as a chat chunk, if it is a JSON object at all (`null`, a number or a string is none). */
function chatChunk(data: string): ChatChunk | undefined {
  try {
    const chunk: unknown = JSON.parse(data);
    return chunk !== null && typeof chunk === 'object' ? (chunk as ChatChunk) : undefined;
  } catch {
    return undefined;
  }
}

const proseDelta = (index: number, type: Prose['type'], content: string): string =>
  event('content_block_delta', { index, delta: type === 'text' ? { type: 'text_delta', text: content } : { type: 'thinking_delta', thinking: content } });

const event = (type: string, fields: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

const errorText = (error: { message?: unknown } | string): string =>
  typeof error === 'string' ? error : typeof error.message === 'string' ? error.message : 'The backend reported an error mid-stream';
