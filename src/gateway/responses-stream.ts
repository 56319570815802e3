import { endCutJsonEvent, type CutEvent } from './cut-event.js';
import { errorMember } from './relay.js';
import { usageOfResponses } from './responses-api.js';
import type { StreamEnding, StreamVerdict } from './stream-ending.js';

const LF = 0x0a;
const CR = 0x0d;
const E = 0x65;
const D = 0x64;
/** What is read of an `event:` line: longer ones name no Responses API event. */
const MAX_EVENT_LINE = 128;
/** What is read of the first `data:` line: the start of `response.created`, where the response's id is. */
const MAX_HEAD = 1024;
/** What is read of the `data:` line of an event without an `event:` line: enough for a leading `type`. */
const MAX_TYPE_HEAD = 128;
/** The response's id as the first field of the event's `response` (OpenAI's order, and that of the engines' pydantic models). */
const RESPONSE_ID = /"response"\s*:\s*\{\s*"id"\s*:\s*"([^"\\]+)"/;
/** The events that end a Responses stream properly (there is no `[DONE]`). */
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
/** An event's type as the first field of its data (OpenAI's order). */
const LEADING_TYPE = /^\{\s*"type"\s*:\s*"([^"\\]+)"/;
/** An event's type as the last field of its data (the order of the engines' pydantic models). */
const TRAILING_TYPE = /"type"\s*:\s*"([^"\\]+)"\s*\}\s*$/;
/** The last event had no `event:` line and its data does not begin with its type: the type is read at its end, in the tail. */
const TYPE_AT_END = Symbol('type at the end of the data');
/** The key of the terminal event's `response.usage` (the only `"usage":` a Response holds outside its JSON-escaped strings). */
const USAGE_KEY = /"usage"\s*:\s*/g;

/**
 * A string of its own, not a slice of `text`'s: a match is a view that keeps its whole subject
 * alive (here the head of `response.created`, up to MAX_HEAD) for as long as it is kept, and the
 * response affinity keeps tens of thousands of ids.
 */
const ownCopy = (text: string): string => JSON.parse(JSON.stringify(text)) as string;

/**
 * The end rule of an OpenAI Responses API stream: typed events (`event: response.created`,
 * `response.output_text.delta`, …) that end with `response.completed`, `response.incomplete` or
 * `response.failed`, and no `data: [DONE]`. The terminal event carries the whole response, output
 * included, so it may be longer than the tail the relay keeps: the name of each event is noted as
 * it passes instead, reading only the `event:` lines and the start of the first `data:` line, for
 * the response's id (lines are found by searching for line ends natively; an `event:` field
 * cannot hide in the JSON data, whose strings hold no raw line break). A stream that sends events
 * without `event:` lines (`data:` only, as some proxies do) is judged by each event's `type`: at
 * the start of its data, else at the end of the last one, in the tail; a trailing `[DONE]` is allowed.
 */
export class ResponsesStream implements StreamEnding {
  private firstDataRead = false;
  private lastEvent: string | typeof TYPE_AT_END | undefined;
  /** The event being read has an `event:` line. */
  private eventNamed = false;
  /** Whether a `data:` line followed the last `event:` line: a terminal event cut before its data did not end the stream. */
  private lastEventHasData = false;
  private events = 0;
  /** The next byte begins a line. */
  private atLineStart = true;
  /** The start of a line being read that a chunk boundary cut, and how much of it is read. */
  private kept: string | undefined;
  private keptLimit = 0;

  /** `onResponseId`: told the answer's response id once the stream's first event (`response.created`) has it. */
  constructor(private readonly onResponseId?: (id: string) => void) {}

  watch(bytes: Buffer): void {
    let at = 0;
    if (!this.atLineStart) {
      const end = bytes.indexOf(LF);
      if (this.kept !== undefined) this.keep(bytes, 0, end);
      if (end === -1) return;
      at = end + 1;
    }
    while (at < bytes.length) {
      const first = bytes[at];
      const end = bytes.indexOf(LF, at);
      if (first === LF || first === CR) this.eventNamed = false;
      else if (first === D) this.lastEventHasData = true;
      if (first === E || (first === D && (!this.firstDataRead || !this.eventNamed))) {
        this.kept = '';
        this.keptLimit = first === E ? MAX_EVENT_LINE : this.firstDataRead ? MAX_TYPE_HEAD : MAX_HEAD;
        this.keep(bytes, at, end);
      }
      if (end === -1) {
        this.atLineStart = false;
        return;
      }
      at = end + 1;
    }
    this.atLineStart = true;
  }

  verdict(tail: Buffer): StreamVerdict {
    // Complete only once the terminal event's data has fully arrived: its line ended.
    const ended = this.lastEventHasData && this.atLineStart && tail.length > 0;
    const last = this.lastEvent === TYPE_AT_END ? trailingType(tail) : this.lastEvent;
    if (ended && last !== undefined && TERMINAL.has(last)) return { usage: usageFromTail(tail) };
    if (ended && last === 'error') return { usage: undefined, failure: 'the backend reported an error mid-stream', told: true };
    return { usage: undefined, failure: 'the backend ended the stream before its terminal event (response.completed)' };
  }

  /** The Responses stream's own error event (`ResponseErrorEvent`), numbered after the last event relayed. */
  errorEvent(message: string, code: string): string {
    return `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null, sequence_number: this.events })}\n\n`;
  }

  endCutEvent(cut: CutEvent, message: string, code: string): string {
    return endCutJsonEvent(cut, errorMember(message, code), this.errorEvent(message, code));
  }

  /** Adds what `bytes` hold of the kept line (up to `end`, -1 when it goes on), and reads it once whole or long enough. */
  private keep(bytes: Buffer, from: number, end: number): void {
    const upTo = Math.min(end === -1 ? bytes.length : end, from + this.keptLimit - this.kept!.length);
    this.kept += bytes.toString('latin1', from, upTo);
    if (end === -1 && this.kept!.length < this.keptLimit) return;
    this.line(this.kept!);
    this.kept = undefined;
  }

  private line(text: string): void {
    if (text.startsWith('event:')) {
      this.lastEvent = text.slice(6).trim();
      this.lastEventHasData = false;
      this.eventNamed = true;
      this.events++;
      return;
    }
    if (!text.startsWith('data:')) return;
    if (!this.firstDataRead) {
      this.firstDataRead = true;
      const id = RESPONSE_ID.exec(text)?.[1];
      if (id !== undefined) this.onResponseId?.(ownCopy(id));
    }
    if (this.eventNamed) return;
    const data = text.slice(5).trimStart();
    if (data.startsWith('[DONE]')) return;
    this.lastEvent = LEADING_TYPE.exec(data)?.[1] ?? TYPE_AT_END;
    this.events++;
  }
}

/** The type at the end of the stream's last data (its last line but a `[DONE]`), for an event whose type was not at its start. */
function trailingType(tail: Buffer): string | undefined {
  const lines = tail.toString('latin1').split(/\r?\n|\r/);
  for (let at = lines.length - 1; at >= 0; at--) {
    const line = lines[at]!;
    if (line === '' || line.startsWith(':') || /^data:\s*\[DONE\]/.test(line)) continue;
    return TRAILING_TYPE.exec(line)?.[1];
  }
  return undefined;
}

/** The terminal event's `response.usage`, from the stream's tail: the last `"usage":` object there, read to its closing brace. */
function usageFromTail(tail: Buffer): ReturnType<typeof usageOfResponses> {
  const text = tail.toString('latin1');
  let start = -1;
  for (const match of text.matchAll(USAGE_KEY)) start = match.index + match[0].length;
  if (start === -1 || text[start] !== '{') return undefined;
  // Usage holds numbers and nested objects, no strings: its braces balance without parsing.
  let depth = 0;
  for (let at = start; at < text.length; at++) {
    const c = text[at];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        return usageOfResponses(JSON.parse(text.slice(start, at + 1)));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
