import { StringDecoder } from 'node:string_decoder';
import type { StreamTranslator } from '../adapter.js';
import { withoutKey } from '../key-echo.js';
import { SseEventTooLargeError } from '../sse-parser.js';

/** The first error event of a run of events (SSE allows the field's value without its space). */
const ERROR_EVENT = /^event: ?error\r?$/m;

/** Characters of held text that a blank line (`\n\r\n` at most) may begin in before the next chunk ends it. */
const BLANK_LINE_REACH = 2;

/**
 * A native Messages stream relayed as Anthropic sent it, but for its `error` event, whose message
 * loses any echo of the target's key (see withoutKey), as an error answer's body does. Events go
 * on as soon as each is whole: only an event whose blank line has not yet arrived is held, in the
 * pieces it came in, and only each chunk's own text is searched for its end (as SseParser does):
 * an event in many small chunks costs its length, not its length times the chunk count.
 */
export class NativeMessagesStream implements StreamTranslator {
  private readonly decoder = new StringDecoder('utf8');
  /** The start of an event whose end has not arrived. */
  private held: string[] = [];
  private heldChars = 0;
  /** The last characters held, where a blank line the next chunk completes may begin. */
  private heldTail = '';

  constructor(
    private readonly key: string,
    private readonly maxEventChars: number,
  ) {}

  push(chunk: Buffer): string {
    const text = this.decoder.write(chunk);
    // A blank line found must end in `text`: one within the held tail alone would have ended an event already.
    const end = eventsEnd(this.heldTail + text) - this.heldTail.length;
    if (end <= 0) {
      this.hold(text);
      return '';
    }
    this.held.push(text.slice(0, end));
    const events = this.held.join('');
    this.held = [];
    this.heldChars = 0;
    this.heldTail = '';
    this.hold(text.slice(end));
    return this.scrubbed(events);
  }

  end(): string {
    this.held.push(this.decoder.end());
    const rest = this.held.join('');
    this.held = [];
    return this.scrubbed(rest);
  }

  private hold(text: string): void {
    if (text === '') return;
    this.held.push(text);
    this.heldChars += text.length;
    if (this.heldChars > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
    this.heldTail = (this.heldTail + text).slice(-BLANK_LINE_REACH);
  }

  /** Whole events, from the first error event on without the key: an error event is a stream's last. */
  private scrubbed(events: string): string {
    const error = events.search(ERROR_EVENT);
    return error === -1 ? events : events.slice(0, error) + withoutKey(events.slice(error), this.key);
  }
}

/** Where the whole events at the start of `text` end: after its last blank line (LF or CRLF), 0 when it has none. */
function eventsEnd(text: string): number {
  const lf = text.lastIndexOf('\n\n');
  const crlf = text.lastIndexOf('\n\r\n');
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 3);
}
