import { StringDecoder } from 'node:string_decoder';
import type { StreamTranslator } from '../adapter.js';
import { withoutKey } from '../key-echo.js';
import { SseEventTooLargeError } from '../sse-parser.js';

/** The first error event of a run of events (SSE allows the field's value without its space). */
const ERROR_EVENT = /^event: ?error\r?$/m;

/**
 * A native Messages stream relayed as Anthropic sent it, but for its `error` event, whose message
 * loses any echo of the target's key (see withoutKey), as an error answer's body does. Events go
 * on as soon as each is whole: only an event whose blank line has not yet arrived is held.
 */
export class NativeMessagesStream implements StreamTranslator {
  private readonly decoder = new StringDecoder('utf8');
  /** The start of an event whose end has not arrived. */
  private held = '';

  constructor(
    private readonly key: string,
    private readonly maxEventChars: number,
  ) {}

  push(chunk: Buffer): string {
    const text = this.held + this.decoder.write(chunk);
    const end = eventsEnd(text);
    this.held = text.slice(end);
    if (this.held.length > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
    return this.scrubbed(text.slice(0, end));
  }

  end(): string {
    const rest = this.held + this.decoder.end();
    this.held = '';
    return this.scrubbed(rest);
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
