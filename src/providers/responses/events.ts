import { messageItem, outputText, reasoningItem } from './response.js';
import { customToolCallItem, functionCallItem } from './tool-calls.js';
import type { ToolKind } from './tools.js';

type Item = Record<string, unknown>;

/** An output item as its events name it: its id and place in the output, and for a tool call its kind, call id and tool. */
export type StreamedItem =
  | { type: 'message'; id: string; index: number }
  | { type: 'reasoning'; id: string; index: number }
  | { type: 'tool_call'; kind: ToolKind; id: string; index: number; callId: string; name: string };

/**
 * The Responses API's typed events of one response, numbered by `sequence_number`: an item's
 * `response.output_item.added` and its part, its deltas, their `.done` events and
 * `response.output_item.done`. The bridge's stream writes them as chat chunks come (stream.ts), the
 * replay of a kept response all at once (replay.ts): both send the same events for the same output.
 */
export class ResponseEvents {
  private sequence = 0;

  /** `startingAfter`: the events numbered up to it are counted but not written (a replay resumed after them). */
  constructor(private readonly startingAfter = -1) {}

  /** `response.created` and `response.in_progress`, with the response as it begins. */
  started(response: Item): string {
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  /**
   * An item's opening: a reasoning item with its summary part, a message with its content part, a
   * function or custom tool call with empty arguments or input. A local shell call's action is known
   * only once its arguments are whole: it is added when it is done.
   */
  opened(item: StreamedItem): string {
    const { id, index } = item;
    if (item.type === 'reasoning') {
      return (
        this.event('response.output_item.added', { output_index: index, item: reasoningItem(id, undefined, 'in_progress') }) +
        this.event('response.reasoning_summary_part.added', { ...summaryAddress(item), part: { type: 'summary_text', text: '' } })
      );
    }
    if (item.type === 'message') {
      return (
        this.event('response.output_item.added', { output_index: index, item: messageItem(id, undefined, 'in_progress') }) +
        this.event('response.content_part.added', { ...partAddress(item), part: outputText('') })
      );
    }
    if (item.kind === 'function') return this.event('response.output_item.added', { output_index: index, item: functionCallItem(id, item.callId, item.name, '', 'in_progress') });
    if (item.kind === 'custom') return this.event('response.output_item.added', { output_index: index, item: customToolCallItem(id, item.callId, item.name, '') });
    return '';
  }

  /** A piece of an item's text: its summary's, its message's, a function's arguments. A custom tool's input comes whole when it is done. */
  delta(item: StreamedItem, delta: string): string {
    if (item.type === 'reasoning') return this.event('response.reasoning_summary_text.delta', { ...summaryAddress(item), delta });
    if (item.type === 'message') return this.event('response.output_text.delta', { ...partAddress(item), delta, logprobs: [] });
    if (item.kind === 'function') return this.event('response.function_call_arguments.delta', { item_id: item.id, output_index: item.index, delta });
    return '';
  }

  /** An item's end: the `.done` events of its parts, with its whole `text`, then `response.output_item.done` with the item `done`. */
  done(item: StreamedItem, text: string, done: Item): string {
    return this.partsDone(item, text, done) + this.event('response.output_item.done', { output_index: item.index, item: done });
  }

  private partsDone(item: StreamedItem, text: string, done: Item): string {
    if (item.type === 'reasoning') {
      return (
        this.event('response.reasoning_summary_text.done', { ...summaryAddress(item), text }) +
        this.event('response.reasoning_summary_part.done', { ...summaryAddress(item), part: { type: 'summary_text', text } })
      );
    }
    if (item.type === 'message') {
      return this.event('response.output_text.done', { ...partAddress(item), text, logprobs: [] }) + this.event('response.content_part.done', { ...partAddress(item), part: outputText(text) });
    }
    const address = { item_id: item.id, output_index: item.index };
    if (item.kind === 'function') return this.event('response.function_call_arguments.done', { ...address, name: item.name, arguments: text });
    if (item.kind === 'local_shell') return this.event('response.output_item.added', { output_index: item.index, item: { ...done, status: 'in_progress' } });
    const input = done.input as string;
    return (input === '' ? '' : this.event('response.custom_tool_call_input.delta', { ...address, delta: input })) + this.event('response.custom_tool_call_input.done', { ...address, input });
  }

  /** The terminal event: `response.completed`, or `response.incomplete`, with the whole response. */
  ended(response: Item): string {
    return this.event(`response.${response.status as string}`, { response });
  }

  /** The API's `error` event, which ends a stream. */
  error(code: string | null, message: string): string {
    return this.event('error', { code, message, param: null });
  }

  private event(type: string, fields: Item): string {
    const sequence = this.sequence++;
    if (sequence <= this.startingAfter) return '';
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: sequence })}\n\n`;
  }
}

const partAddress = ({ id, index }: StreamedItem) => ({ item_id: id, output_index: index, content_index: 0 });
const summaryAddress = ({ id, index }: StreamedItem) => ({ item_id: id, output_index: index, summary_index: 0 });
