import { completeJsonObject } from './json-prefix.js';

const LF = 0x0a;
const CR = 0x0d;
const EVENT_BOUNDARY = /\r?\n\r?\n|\r\r/g;

/** The SSE event a relayed stream stopped inside. */
export interface CutEvent {
  /** The event's text as relayed, from its first line; undefined when it began before the kept tail. */
  readonly text: string | undefined;
  /** The stream stopped inside a line: its line end has not been relayed. */
  readonly midLine: boolean;
}

/**
 * The event a stream stopped inside, read from the relayed `tail` (`holdsStart`: the tail is the
 * whole stream); undefined when it stopped between events.
 */
export function cutEvent(tail: Buffer, holdsStart: boolean): CutEvent | undefined {
  const end = tail.length;
  if (end === 0) return undefined;
  const midLine = tail[end - 1] !== LF;
  // A blank line (LF or CRLF) after a line's LF ends the event.
  if (!midLine && (end === 1 || tail[end - 2] === LF || (tail[end - 2] === CR && tail[end - 3] === LF))) return undefined;
  const text = tail.toString('utf8');
  let start = holdsStart ? 0 : -1;
  for (const boundary of text.matchAll(EVENT_BOUNDARY)) start = boundary.index + boundary[0].length;
  return { text: start === -1 ? undefined : text.slice(start), midLine };
}

/**
 * Ends an event of JSON data cut by a broken stream so that it carries the router's `error`
 * (`"error":{…}`, the member an OpenAI error body has), and the stream with it: the OpenAI SDKs
 * parse every event and raise one with an `error` as an APIError, where the cut event's JSON, or
 * that start and the error event read as one, were a SyntaxError. The cut JSON is closed with the
 * least that makes it whole (json-prefix.ts), in the line it was cut in or, cut between its data
 * lines, in one more. What cannot carry it (a whole JSON line cut before its blank line, data that
 * is not an object, an event begun before the kept tail) is ended as it is, before `errorEvent`.
 */
export function endCutJsonEvent(cut: CutEvent, errorMember: string, errorEvent: string): string {
  const lineEnd = cut.midLine ? '\n' : '';
  if (cut.text === undefined) return `${lineEnd}\n${errorEvent}`;
  const lines = cut.text.split(/\r\n|\r|\n/);
  // Split after a whole line leaves an empty last piece; after a cut one, that line's start.
  const last = lines.pop()!;
  const data = lines.filter((line) => line.startsWith('data:')).map(dataValue);
  if (cut.midLine && last.startsWith('data:')) {
    const completion = completeJsonObject([...data, dataValue(last)].join('\n'), errorMember);
    return completion === undefined ? `\n\n${errorEvent}` : `${completion}\n\n`;
  }
  // Cut in another field's line (`event:`, `id:`, a comment), or after a whole line.
  if (data.length === 0) return `${lineEnd}data: {${errorMember}}\n\n`;
  // Data lines are joined by a line feed: a JSON object sent over several is closed in a line of its own.
  const completion = completeJsonObject(`${data.join('\n')}\n`, errorMember);
  return completion === undefined ? `${lineEnd}\n${errorEvent}` : `${lineEnd}data: ${completion}\n\n`;
}

const dataValue = (line: string): string => line.slice(line[5] === ' ' ? 6 : 5);
