import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { StreamTranslator } from '../providers/adapter.js';
import { CLIENT_GONE, type RequestAbort } from './abort.js';
import { StreamTail } from './stream-tail.js';
import type { UpstreamBody } from '../upstream/call.js';
import type { ApiError } from '../server/errors.js';
import type { Usage } from './inference-request.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'date',
]);

export function responseHeaders(upstream: IncomingHttpHeaders, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const name in upstream) if (!HOP_BY_HOP.has(name)) headers[name] = upstream[name];
  return Object.assign(headers, extra);
}

export function writeJson(res: ServerResponse, status: number, body: Buffer | string, headers: OutgoingHttpHeaders): void {
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

export function writeApiError(res: ServerResponse, error: ApiError, headers: OutgoingHttpHeaders): void {
  if (res.headersSent) return;
  writeJson(res, error.status, JSON.stringify(error), { 'content-type': 'application/json', ...error.headers, ...headers });
}

/** An SSE event carrying an OpenAI-shaped error: the SDKs raise it as an APIError. */
export function sseErrorEvent(message: string, code: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'upstream_error', param: null, code } })}\n\n`;
}

export interface StreamOutcome {
  ttftS: number | undefined;
  /** Mean gap between chunks after the first (undefined with fewer than two chunks). */
  interTokenS: number | undefined;
  usage: Usage | undefined;
  /** Set when the stream did not end normally; the client has been told with an error event. */
  error: string | undefined;
  clientGone: boolean;
}

const TAIL_BYTES = 8192;
const DONE = Buffer.from('data: [DONE]');
const EVENT_END = Buffer.from('\n\n');
const ERROR_EVENT = Buffer.from('data: {"error"');

/**
 * Relays an SSE body chunk by chunk as it arrives (through the provider's translator, if any),
 * holding the upstream back while the client is slower than the stream. Accounting reads a
 * bounded tail of the stream after it ends, so it never delays a chunk. A stream that breaks, or
 * ends without `[DONE]`, is closed with an error event rather than left to look complete.
 */
export function relayStream(
  res: ServerResponse,
  body: UpstreamBody,
  startedAt: number,
  signal: RequestAbort,
  translator?: StreamTranslator,
  /** Sees each relayed chunk (the response cache keeps them); must not block. */
  tap?: (bytes: Buffer) => void,
): Promise<StreamOutcome> {
  let ttftS: number | undefined;
  let firstEventAt = 0;
  let lastEventAt = 0;
  let events = 0;
  const kept = new StreamTail(TAIL_BYTES);
  // Per event, not per network read: events that arrive in one read were delivered together (gap 0).
  const interTokenS = () => (events > 1 ? (lastEventAt - firstEventAt) / (events - 1) / 1000 : undefined);
  /** Writes one chunk; false when the client's buffer is full. */
  const forward = (bytes: Buffer): boolean => {
    if (bytes.length === 0) return true;
    lastEventAt = performance.now();
    if (events === 0) {
      firstEventAt = lastEventAt;
      ttftS = (firstEventAt - startedAt) / 1000;
    }
    events += countEvents(bytes);
    tap?.(bytes);
    kept.push(bytes);
    return res.write(bytes);
  };

  return new Promise((resolve) => {
    let settled = false;
    const resumeUpstream = () => body.resume();
    res.on('drain', resumeUpstream);
    const settle = (error: string | undefined, clientGone = false, usage?: Usage) => {
      settled = true;
      res.removeListener('drain', resumeUpstream);
      resolve({ ttftS, interTokenS: interTokenS(), usage, error, clientGone });
    };
    const broke = (error: Error) => {
      if (signal.aborted && signal.reason === CLIENT_GONE) return settle('client disconnected', true);
      const timedOut = signal.aborted;
      const message = timedOut ? 'the request timed out mid-stream' : `the backend stream broke: ${error.message}`;
      endWithError(res, message, timedOut ? 'gateway_timeout' : 'upstream_stream_error');
      settle(message);
    };
    const completed = () => {
      const tail = kept.read();
      if (tail.lastIndexOf(DONE) !== -1) {
        res.end();
        return settle(undefined, false, usageFromTail(tail));
      }
      // A stream whose last event is already an error (the provider's own, translated) has told the client.
      const endsWithError = tail.lastIndexOf(ERROR_EVENT) !== -1 && tail.lastIndexOf(ERROR_EVENT) === tail.lastIndexOf('data: ');
      if (endsWithError) res.end();
      else endWithError(res, 'the backend ended the stream without [DONE]', 'upstream_stream_truncated');
      settle(endsWithError ? 'the backend reported an error mid-stream' : 'the backend ended the stream without [DONE]', false, usageFromTail(tail));
    };
    body.pipe({
      data(chunk) {
        if (settled) return true;
        try {
          return forward(translator ? Buffer.from(translator.push(chunk)) : chunk);
        } catch (error) {
          // Not from inside undici's callback: stop the upstream once it has returned.
          queueMicrotask(() => body.cancel(error as Error));
          broke(error as Error);
          return true;
        }
      },
      end() {
        if (settled) return;
        try {
          if (translator) forward(Buffer.from(translator.end()));
        } catch (error) {
          return broke(error as Error);
        }
        completed();
      },
      fail(error) {
        if (!settled) broke(error);
      },
    });
  });
}

/** SSE events ending in `bytes` (each ends with a blank line); at least 1 so that a partial event still counts as a delivery. */
function countEvents(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(EVENT_END); at !== -1; at = bytes.indexOf(EVENT_END, at + 2)) count++;
  return Math.max(1, count);
}

function endWithError(res: ServerResponse, message: string, code: string): void {
  if (!res.writableEnded && !res.destroyed) res.end(sseErrorEvent(message, code));
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


