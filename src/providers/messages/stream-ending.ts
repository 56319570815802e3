import { parseJson } from '../../gateway/parse-json.js';
import type { CutEvent } from '../../gateway/cut-event.js';
import type { StreamEnding, StreamVerdict } from '../../gateway/stream-ending.js';
import { anthropicErrorEvent } from '../anthropic/errors.js';
import { updateUsage, type AnthropicUsage } from '../anthropic/response.js';
import { SseParser, type SseEvent } from '../sse-parser.js';
import { usageOfMessages } from './response.js';

/** What is read of the stream's start for its first event (`message_start`, a few hundred bytes). */
const MAX_HEAD = 8192;

/**
 * The end rule of an Anthropic Messages stream (a target's own, or one translated from chat
 * chunks): complete once `message_stop` is its last event, with no `[DONE]`. The input tokens
 * are counted in `message_start`, at the stream's start, which the tail may no longer hold: its
 * first event is read as it passes; the last `message_delta`, in the tail, has the final counts.
 */
export class MessagesStream implements StreamEnding {
  /** Reads the first event; dropped once it has (or once it proves longer than MAX_HEAD). */
  private head: SseParser | undefined = new SseParser(MAX_HEAD);
  private startUsage: AnthropicUsage | undefined;

  watch(bytes: Buffer): void {
    if (this.head === undefined) return;
    let first: SseEvent | undefined;
    try {
      first = this.head.push(bytes)[0];
    } catch {
      this.head = undefined;
      return;
    }
    if (first === undefined) return;
    this.head = undefined;
    this.startUsage = (parseJson(first.data) as { message?: { usage?: AnthropicUsage } } | undefined)?.message?.usage;
  }

  /**
   * An event's `event:` line names it, the last one if several: the Anthropic SDK skips `ping`
   * events unread, where the start of a cut event and the error event read as one were not JSON.
   */
  endCutEvent(cut: CutEvent, message: string): string {
    return `${cut.midLine ? '\n' : ''}event: ping\n\n${this.errorEvent(message)}`;
  }

  verdict(tail: Buffer): StreamVerdict {
    // Whole events only: a client drops an event whose blank line never came, a `message_stop` or an `error` too.
    const events = new SseParser().push(tail);
    const usage = this.usage(events);
    const last = events.at(-1);
    const type = last?.event ?? (parseJson(last?.data) as { type?: string } | undefined)?.type;
    if (type === 'message_stop') return { usage };
    if (type === 'error') return { usage, failure: 'the backend reported an error mid-stream', told: true };
    return { usage, failure: 'the backend ended the stream before message_stop' };
  }

  errorEvent(message: string): string {
    return anthropicErrorEvent('api_error', message);
  }

  /** The counts of `message_start` updated by the last `message_delta`; none when nothing was counted. */
  private usage(events: SseEvent[]): ReturnType<typeof usageOfMessages> {
    const counts: AnthropicUsage = { ...this.startUsage };
    const delta = events.findLast((event) => event.event === 'message_delta');
    const final = (parseJson(delta?.data) as { usage?: AnthropicUsage } | undefined)?.usage;
    updateUsage(counts, final);
    // A translated stream whose target reported no usage counts zeros: the router's estimate stands in for them.
    if (!counts.input_tokens && !counts.output_tokens) return undefined;
    return usageOfMessages(counts);
  }
}
