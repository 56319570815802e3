import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isSecret, withoutKey } from '../providers/key-echo.js';
import { messagesErrorBody } from '../providers/messages/errors.js';
import { badGateway, type ApiError } from '../server/errors.js';
import { ResponseTooLargeError } from '../upstream/call.js';
import { decodedBody } from '../upstream/content-encoding.js';
import { abortError, type RequestAbort } from './abort.js';
import type { Route } from './inference-request.js';

/**
 * Upstream headers the client never sees: hop-by-hop ones, those the router sets itself, and those
 * that speak for the router's origin, which a target (any agent, on an open router) has no say in:
 * its cookies, and CORS grants that would let any web page read the router's answers.
 */
const NOT_RELAYED = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'date',
  'set-cookie', 'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-headers', 'access-control-allow-methods',
  'access-control-expose-headers', 'access-control-max-age',
]);

/** The router's own time spent on an answer relayed from a backend, in ms (see the README's Observability). */
export const OVERHEAD_HEADER = 'x-switchyard-overhead-ms';

export const overheadMs = (ms: number): string => Math.max(0, ms).toFixed(3);

/** Media types are case-insensitive. */
export const isEventStreamType = (contentType: string): boolean => /^text\/event-stream/i.test(contentType);

export function responseHeaders(upstream: IncomingHttpHeaders, extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const name in upstream) if (!NOT_RELAYED.has(name)) headers[name] = upstream[name];
  return Object.assign(headers, extra);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * A target's name as the `x-switchyard-target` value. Names may hold characters no header can (an
 * agent named `gpu-名`, a control character): those are percent-encoded, or writing the answer's
 * head would throw and every request to that target would end in a 500.
 */
export const targetHeader = (name: string): string => (PRINTABLE_ASCII.test(name) ? name : encodeURIComponent(name));

export function writeJson(res: ServerResponse, status: number, body: Buffer | string, headers: OutgoingHttpHeaders): void {
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

/** An error the router answers, in the shape of the API `endpoint` belongs to (the OpenAI shape but for the Anthropic Messages API's). */
export function writeApiError(res: ServerResponse, error: ApiError, headers: OutgoingHttpHeaders, endpoint?: Route): void {
  if (res.headersSent) return;
  writeJson(res, error.status, apiErrorBody(error, endpoint), { 'content-type': 'application/json', ...error.headers, ...headers });
}

/** The JSON of `error` in the shape of the API `endpoint` belongs to (see writeApiError). */
export function apiErrorBody(error: ApiError, endpoint?: Route): string {
  return endpoint === 'messages' ? messagesErrorBody(error.status, error.message) : JSON.stringify(error);
}

/**
 * `body` without `key` (see withoutKey), for an answer that is or may report an error. A compressed
 * body is decoded to be read, and relayed decoded only when something was taken out of it; one the
 * router cannot decode goes as it came, and so does every body when no secret was sent (isSecret).
 */
export function errorBodyWithoutKey(body: Buffer, headers: OutgoingHttpHeaders, key: string | undefined, maxBytes: number): Buffer {
  if (!isSecret(key)) return body;
  const text = decodedBody(body, headers['content-encoding'], maxBytes)?.toString();
  if (text === undefined) return body;
  const scrubbed = withoutKey(text, key);
  if (scrubbed === text) return body;
  delete headers['content-encoding'];
  return Buffer.from(scrubbed);
}

const upstreamError = (message: string, code: string) => ({ error: { message, type: 'upstream_error', param: null, code } });

/** An SSE event carrying an OpenAI-shaped error: the SDKs raise it as an APIError. */
export function sseErrorEvent(message: string, code: string): string {
  return `data: ${JSON.stringify(upstreamError(message, code))}\n\n`;
}

/** The same error as a member of a JSON object (`"error":{…}`), for an event that must carry it. */
export function errorMember(message: string, code: string): string {
  return JSON.stringify(upstreamError(message, code)).slice(1, -1);
}

/** What the client is told when reading a backend's whole answer failed: the request's abort, or the backend's fault. */
export function brokenAnswer(error: unknown, backend: string, signal: RequestAbort): ApiError {
  return (
    abortError(signal) ??
    (error instanceof ResponseTooLargeError
      ? badGateway(`backend ${backend} answered more than max_response_bytes (${error.maxBytes} bytes)`)
      : badGateway(`backend ${backend} broke off its response: ${(error as Error).message}`))
  );
}
