import { StringDecoder } from 'node:string_decoder';

export interface SseEvent {
  /** The `event:` field, when the provider names its events (Anthropic does, Gemini does not). */
  event: string | undefined;
  data: string;
}

/** An event longer than the parser holds: a broken or hostile upstream must not take the router's memory with it. */
export class SseEventTooLargeError extends Error {
  constructor(readonly maxChars: number) {
    super(`an event of the stream is longer than ${maxChars} characters (max_response_bytes)`);
  }
}

/**
 * An incremental Server-Sent Events parser: upstream chunks may split a line, an event or a
 * multi-byte character anywhere. Each chunk's text is searched for line ends once: the start of
 * an unfinished line is kept in the pieces it came in and joined when its end arrives, so an
 * event delivered in many small chunks costs its length, not its length times the chunk count.
 */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private partialLine: string[] = [];
  /** Characters of the event being read: its complete lines and the unfinished one. */
  private eventChars = 0;
  private event: string | undefined;
  private data: string[] = [];

  constructor(private readonly maxEventChars = Number.POSITIVE_INFINITY) {}

  /** Throws SseEventTooLargeError once the event being read grows past the limit. */
  push(chunk: Buffer): SseEvent[] {
    const text = this.decoder.write(chunk);
    const events: SseEvent[] = [];
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      this.count(newline + 1 - start);
      let line = text.slice(start, newline);
      if (this.partialLine.length > 0) {
        this.partialLine.push(line);
        line = this.partialLine.join('');
        this.partialLine = [];
      }
      this.line(line.endsWith('\r') ? line.slice(0, -1) : line, events);
      start = newline + 1;
    }
    if (start < text.length) {
      this.count(text.length - start);
      this.partialLine.push(text.slice(start));
    }
    return events;
  }

  /** Events left when the upstream ends, including one whose closing blank line never came. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.partialLine.join('') + this.decoder.end();
    this.partialLine = [];
    if (rest.length > 0) this.line(rest.replace(/\r$/, ''), events);
    this.line('', events);
    return events;
  }

  private count(chars: number): void {
    this.eventChars += chars;
    if (this.eventChars > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push({ event: this.event, data: this.data.join('\n') });
      this.event = undefined;
      this.data = [];
      this.eventChars = 0;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
