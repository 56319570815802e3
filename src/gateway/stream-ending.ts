import { endCutJsonEvent, type CutEvent } from './cut-event.js';
import type { Usage } from './inference-request.js';
import { errorMember, sseErrorEvent } from './relay.js';

/** How a relayed stream ended, as its route's rule judges it. */
export interface StreamVerdict {
  usage: Usage | undefined;
  /** Why the stream is not complete; undefined when it is. */
  failure?: string;
  /** Set when the stream's last event is the backend's own error: the client has been told. */
  told?: boolean;
}

/**
 * How one route's streams end and break. Judged once the stream has ended, from its tail; a rule
 * that needs more than the tail watches the chunks as they pass (kept out of the chat path).
 */
export interface StreamEnding {
  watch?(bytes: Buffer): void;
  verdict(tail: Buffer): StreamVerdict;
  /** The event that ends a broken stream, in the route's own error shape (the SDKs raise it). */
  errorEvent(message: string, code: string): string;
  /**
   * What ends a stream that stopped inside an event the client has the start of: that event, as
   * the route's clients read it without a parse error, and the error.
   */
  endCutEvent(cut: CutEvent, message: string, code: string): string;
}

/** Chat and text completion streams: complete only when `data: [DONE]` is their last event. */
export const CHUNK_STREAM: StreamEnding = {
  verdict(tail) {
    const last = lastEventData(tail);
    const usage = usageFromTail(tail);
    if (last === '[DONE]') return { usage };
    // A stream whose last event is already an error (the provider's own, translated) has told the client.
    if (last?.startsWith('{"error"') === true) return { usage, failure: 'the backend reported an error mid-stream', told: true };
    return { usage, failure: 'the backend ended the stream without [DONE]' };
  },
  errorEvent: sseErrorEvent,
  endCutEvent: (cut, message, code) => endCutJsonEvent(cut, errorMember(message, code), sseErrorEvent(message, code)),
};

/**
 * The data of the stream's last complete event, or undefined. A stream is complete only when
 * `[DONE]` is its last event: the text may also appear inside a generated token. SSE allows
 * `data:[DONE]` as well as `data: [DONE]`, and CRLF line ends.
 */
function lastEventData(tail: Buffer): string | undefined {
  const events = tail.toString('latin1').split(/\r?\n\r?\n|\r\r/);
  // Comment-only events (keep-alives) carry no data and are skipped.
  for (let at = events.length - 1; at >= 0; at--) {
    const data = events[at]!.split(/\r?\n|\r/).filter((line) => line.startsWith('data:'));
    if (data.length > 0) return data.map((line) => line.slice(line[5] === ' ' ? 6 : 5)).join('\n');
  }
  return undefined;
}

/** The `usage` of the last event that carries one (the final chunk with `include_usage`). */
export function usageFromTail(tail: Buffer): Usage | undefined {
  const at = tail.lastIndexOf('"usage"');
  if (at === -1) return undefined;
  const lineStart = tail.lastIndexOf('data:', at);
  const lineEnd = tail.indexOf('\n', at);
  if (lineStart === -1) return undefined;
  try {
    const event = JSON.parse(tail.subarray(lineStart + 5, lineEnd === -1 ? undefined : lineEnd).toString()) as { usage?: Usage | null };
    return event.usage ?? undefined;
  } catch {
    return undefined;
  }
}
