import type { Usage } from '../../gateway/inference-request.js';
import { ChatChunkTranslator, type ChunkError } from '../chat-chunk-translator.js';
import { routerId } from '../router-id.js';
import type { ChunkDelta, ThinkingBlock, ToolCallDelta } from '../openai-chunks.js';
import { engineCallId, reasoningOf, toolCallsOf, toolName, type Reasoning } from '../messages/response.js';
import { appendThinking, sealedThinking } from './thinking-blocks.js';
import { ResponseEvents, type StreamedItem } from './events.js';
import { incompleteReason, messageItem, reasoningItem, responseObject, type ResponseStatus } from './response.js';
import { CALL_ITEM_PREFIX, toolCallItem } from './tool-calls.js';
import { toolKind } from './tools.js';

interface ChatChunk {
  choices?: Array<{ delta?: ChunkDelta & Reasoning; finish_reason?: string | null }>;
  usage?: Usage | null;
  error?: ChunkError | null;
}

/** The output item being streamed, with what it has had so far. */
type OpenItem =
  | (StreamedItem & { type: 'message'; text: string })
  | (StreamedItem & { type: 'reasoning'; text: string; thinking: ThinkingBlock[] })
  | OpenToolCall;

type OpenToolCall = StreamedItem & { type: 'tool_call'; text: string; chatIndex: number | undefined };

/**
 * OpenAI chat chunks → the Responses API's typed events, as each chunk completes:
 * `response.created` and `response.in_progress` with the first chunk, then one output item at a
 * time (`response.output_item.added`, its part, its deltas, their `.done` events and
 * `response.output_item.done`): the reasoning as a `reasoning` item's summary (Anthropic's signed
 * thinking, sealed in its `encrypted_content`, with its `.done` event), the text as a
 * `message`, each tool call as an item of its tool's kind (see toolCall); at `[DONE]`, `response.completed` (or
 * `response.incomplete`, cut at `max_output_tokens`) with the whole response and its usage.
 * Every event is numbered by `sequence_number` (events.ts writes them). A stream cut short gets no terminal event, so it
 * stays visibly incomplete; an error chunk becomes the API's `error` event and ends the translation.
 * `chat` translates the target's own stream to chat chunks first (Anthropic's, Gemini's).
 */
export class ResponsesStreamTranslator extends ChatChunkTranslator<ChatChunk> {
  private readonly id = routerId('resp');
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly events = new ResponseEvents();
  private started = false;
  private open: OpenItem | undefined;
  /** The output items done so far, as the terminal event's response lists them. */
  private readonly done: Array<Record<string, unknown>> = [];
  private finishReason: string | null | undefined;
  private usage: Usage | undefined;

  protected onChunk(chunk: ChatChunk): string {
    let out = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const reasoning = reasoningOf(choice.delta);
    const thinking = choice.delta?.thinking_blocks;
    if (reasoning !== undefined || Array.isArray(thinking)) out += this.reasoning(reasoning, thinking);
    const text = choice.delta?.content;
    if (typeof text === 'string' && text !== '') out += this.text(text);
    for (const call of toolCallsOf(choice.delta?.tool_calls)) out += this.toolCall(call);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    return this.events.started(this.response('in_progress'));
  }

  /** Reasoning text, and Anthropic's thinking blocks in pieces (their signatures, redacted blocks): the open reasoning item's, else a new one's. */
  private reasoning(text: string | undefined, thinking: unknown): string {
    let out = '';
    if (this.open?.type !== 'reasoning') {
      out += this.closeItem();
      const id = routerId('rs');
      const index = this.done.length;
      this.open = { type: 'reasoning', id, index, text: '', thinking: [] };
      out += this.events.opened(this.open);
    }
    const open = this.open;
    appendThinking(open.thinking, thinking);
    if (text === undefined) return out;
    open.text += text;
    this.hold(text.length);
    return out + this.events.delta(open, text);
  }

  /** Answer text: a delta of the open message item, else the start of one. */
  private text(text: string): string {
    let out = '';
    if (this.open?.type !== 'message') {
      out += this.closeItem();
      const id = routerId('msg');
      const index = this.done.length;
      this.open = { type: 'message', id, index, text: '' };
      out += this.events.opened(this.open);
    }
    const open = this.open;
    open.text += text;
    this.hold(text.length);
    return out + this.events.delta(open, text);
  }

  /**
   * A piece of a tool call: the first opens its item, later ones carry its arguments. A function's
   * arguments stream as they come; a custom tool's text and a local shell's action are known only
   * once the arguments' JSON is whole, so they come at once when the call ends (see ResponseEvents.done): a
   * `custom_tool_call` item opens with an empty input, a `local_shell_call` is added when whole.
   */
  private toolCall(piece: ToolCallDelta): string {
    let out = '';
    if (!this.continues(piece)) {
      out += this.closeItem();
      const name = toolName(piece.function?.name);
      const kind = toolKind(this.request.body.tools, name);
      const id = routerId(CALL_ITEM_PREFIX[kind]);
      const index = this.done.length;
      const callId = engineCallId(piece.id) ?? routerId('call');
      this.open = { type: 'tool_call', kind, id, index, text: '', callId, name, chatIndex: piece.index };
      out += this.events.opened(this.open);
    }
    const open = this.open as OpenToolCall;
    const json = piece.function?.arguments;
    if (typeof json !== 'string' || json === '') return out;
    open.text += json;
    this.hold(json.length);
    return out + this.events.delta(open, json);
  }

  /**
   * Whether a piece continues the open tool call: the same chat index, and no other id. The chat
   * streams translated here (Anthropic's, Gemini's) give each call whole before the next.
   */
  private continues(piece: ToolCallDelta): boolean {
    const open = this.open;
    if (open?.type !== 'tool_call' || piece.index !== open.chatIndex) return false;
    const id = engineCallId(piece.id);
    return id === undefined || id === open.callId;
  }

  /** The `.done` events of the open item, which joins the response's output. */
  private closeItem(): string {
    const open = this.open;
    if (open === undefined) return '';
    this.open = undefined;
    const status: ResponseStatus = incompleteReason(this.finishReason) === undefined ? 'completed' : 'incomplete';
    const item =
      open.type === 'tool_call'
        ? toolCallItem(open.kind, open.id, open.callId, open.name, open.text, status)
        : open.type === 'reasoning'
          ? reasoningItem(open.id, open.text, status, sealedThinking(open.thinking))
          : messageItem(open.id, open.text, status);
    this.done.push(item);
    return this.events.done(open, open.text, item);
  }

  protected finish(): string {
    const out = this.start() + this.closeItem();
    const reason = incompleteReason(this.finishReason);
    const response = this.response(reason === undefined ? 'completed' : 'incomplete', reason);
    this.context.onResponse?.(response);
    return out + this.events.ended(response);
  }

  private response(status: ResponseStatus, reason?: string): Record<string, unknown> {
    return responseObject(this.request, { id: this.id, createdAt: this.createdAt, status, reason, output: this.done, usage: this.usage });
  }

  protected errorEvent(message: string, error: ChunkError | undefined): string {
    return this.events.error(errorCode(error), message);
  }
}

const errorCode = (error: ChunkError | undefined): string | null => (typeof error === 'object' && typeof error.code === 'string' ? error.code : null);
