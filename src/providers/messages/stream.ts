import type { InferenceRequest, Usage } from '../../gateway/inference-request.js';
import type { StreamContext, StreamTranslator } from '../adapter.js';
import { anthropicErrorEvent } from '../anthropic/errors.js';
import { fromOpenAiUsage } from '../anthropic/response.js';
import { ChatChunkTranslator, type ChunkError } from '../chat-chunk-translator.js';
import type { ChunkDelta } from '../openai-chunks.js';
import { JsonObjectText } from './json-object-text.js';
import { engineCallId, messageId, reasoningOf, type Reasoning, showsThinking, stopOf, thinkingBlock, toolCallsOf, toolName, toolUseId } from './response.js';

/** A chat tool call as the stream has had it so far: its arguments are kept, until its block closes, to tell when they are whole. */
interface ToolCall {
  type: 'tool_use';
  /** The chat tool call's index, which some engines leave out (or give every call alike). */
  index: number | undefined;
  /** Its tool use's id: the engine's, or the router's when it gave none. */
  id: string;
  name: string;
  arguments: JsonObjectText;
  /** Set once its block is closed: later pieces have nowhere to go. */
  closed: boolean;
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
  error?: ChunkError | null;
}

/**
 * OpenAI chat chunks → the Messages API's event stream, as each chunk completes: `message_start`,
 * then one content block at a time (`content_block_start`, its deltas, `content_block_stop`;
 * text, or a tool use per tool call), and at `[DONE]` the `message_delta` with the stop reason and
 * usage, and `message_stop`. A stream cut short gets no `message_stop`, so it stays visibly
 * incomplete; an error chunk becomes Anthropic's `error` event and ends the translation.
 * `chat` translates the target's own stream to chat chunks first, when it speaks another format.
 */
export class MessagesStreamTranslator extends ChatChunkTranslator<ChatChunk> {
  private readonly relaysThinking: boolean;
  private started = false;
  /** The content block being streamed, at its index in the message. */
  private open: { block: Block; index: number } | undefined;
  /** Blocks begun while the open one may still grow (an engine that interleaves parallel tool calls), in the order they began. */
  private readonly waiting: Block[] = [];
  /** The last tool call begun of each engine id, of each index, and of all, to tell which one a piece continues. */
  private readonly callsById = new Map<string, ToolCall>();
  private readonly callsByIndex = new Map<number | undefined, ToolCall>();
  private lastCall: ToolCall | undefined;
  private blocks = 0;
  private finishReason: string | null | undefined;
  private engineStop: unknown;
  private usage: Usage | undefined;

  constructor(
    request: InferenceRequest,
    chat: StreamTranslator | undefined,
    context: StreamContext,
  ) {
    super(request, chat, context);
    this.relaysThinking = showsThinking(request.body);
  }

  protected onChunk(chunk: ChatChunk): string {
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
    this.hold(content.length);
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
      const id = engineCallId(piece.id);
      call = { type: 'tool_use', index: piece.index, id: toolUseId(id), name: toolName(piece.function?.name), arguments: new JsonObjectText(), closed: false };
      if (id !== undefined) this.callsById.set(id, call);
      this.callsByIndex.set(call.index, call);
      this.lastCall = call;
      this.waiting.push(call);
    }
    let out = '';
    const json = piece.function?.arguments;
    if (typeof json === 'string' && json !== '' && !call.closed) {
      if (this.open?.block === call) out += event('content_block_delta', { index: this.open.index, delta: { type: 'input_json_delta', partial_json: json } });
      call.arguments.append(json);
      this.hold(json.length);
    }
    return out + this.advance(false);
  }

  /**
   * The call a piece continues: the one of its id (some engines repeat it in every piece), else the
   * last of its index, or the last at all when it has none; but a piece that names a function other
   * than the call's, or names one after the call's arguments are whole, begins a call
   * (engines that give parallel calls no id and one index alike, or none).
   */
  private callOf(piece: NonNullable<ChunkDelta['tool_calls']>[number]): ToolCall | undefined {
    const id = engineCallId(piece.id);
    if (id !== undefined) return this.callsById.get(id);
    const call = piece.index === undefined ? this.lastCall : this.callsByIndex.get(piece.index);
    const name = piece.function?.name;
    if (call === undefined || typeof name !== 'string' || name === '' || call.name === '') return call;
    return name !== call.name || call.arguments.whole ? undefined : call;
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
        this.held -= block.content.length;
        block.content = '';
      } else {
        out += event('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        if (block.arguments.text !== '') out += event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: block.arguments.text } });
      }
    }
    return out;
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    const { block, index } = this.open;
    if (block.type === 'tool_use') {
      block.closed = true;
      this.held -= block.arguments.text.length;
      block.arguments.text = '';
    }
    this.open = undefined;
    return event('content_block_stop', { index });
  }

  protected finish(): string {
    const delta = stopOf(this.finishReason, this.engineStop, this.request.body);
    return this.start(undefined) + this.advance(true) + this.closeBlock() + event('message_delta', { delta, usage: fromOpenAiUsage(this.usage) }) + event('message_stop', {});
  }

  protected errorEvent(message: string): string {
    return anthropicErrorEvent('api_error', message);
  }
}

/** Whether a block is done: text or thinking is once another block has begun, a tool use once its arguments are a whole JSON object. */
const isDone = (block: Block): boolean => block.type !== 'tool_use' || block.arguments.whole;

const proseDelta = (index: number, type: Prose['type'], content: string): string =>
  event('content_block_delta', { index, delta: type === 'text' ? { type: 'text_delta', text: content } : { type: 'thinking_delta', thinking: content } });

const event = (type: string, fields: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;
