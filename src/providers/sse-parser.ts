import { StringDecoder } from 'node:string_decoder';

export interface SseEvent {
  /** The `event:` field, when the provider names its events (Anthropic does, Gemini does not). */
  event: string | undefined;
  data: string;
}

/**
 * An incremental Server-Sent Events parser: upstream chunks may split a line, an event or a
 * multi-byte character anywhere, so text is buffered until a line is complete.
 */
export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];

  push(chunk: Buffer): SseEvent[] {
    this.buffer += this.decoder.write(chunk);
    const events: SseEvent[] = [];
    let start = 0;
    for (let newline = this.buffer.indexOf('\n'); newline !== -1; newline = this.buffer.indexOf('\n', start)) {
      const end = newline > start && this.buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      this.line(this.buffer.slice(start, end), events);
      start = newline + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Events left when the upstream ends, including one whose closing blank line never came. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.buffer + this.decoder.end();
    this.buffer = '';
    if (rest.length > 0) this.line(rest.replace(/\r$/, ''), events);
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push({ event: this.event, data: this.data.join('\n') });
      this.event = undefined;
      this.data = [];
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
