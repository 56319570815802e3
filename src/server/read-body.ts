import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from './errors.js';

export const bodyTooLarge = () => new ApiError(413, 'The request body is larger than this router accepts', 'invalid_request_error', 'request_too_large');

const encodedBody = (encoding: string) =>
  new ApiError(415, `The request body is sent with Content-Encoding '${encoding}'; this router reads only uncompressed JSON`, 'invalid_request_error', 'unsupported_content_encoding');

/** A `content-encoding` that applies none: empty, or `identity`. */
const NO_CODING = /^\s*(identity)?\s*$/i;

/**
 * How long the rest of a refused body is read and dropped. Closing at once would reset the
 * connection while the client is still sending, and most clients then report a connection error
 * instead of the answer (the OpenAI SDKs even retry the upload).
 */
const DISCARD_MS = 10_000;

/**
 * Reads a request body of at most `limit` bytes. `done` is called once: with the bytes, with
 * an error to answer (413, 415), or with neither when the client went away before sending it all.
 */
export function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | undefined, error?: ApiError) => void): void {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && !NO_CODING.test(encoding)) return refuse(req, encodedBody(encoding), done);
  if (Number(req.headers['content-length']) > limit) return refuse(req, bodyTooLarge(), done);
  const chunks: Buffer[] = [];
  let size = 0;
  const finish = (body: Buffer | undefined, error?: ApiError) => {
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('close', onClose);
    done(body, error);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else {
      finish(undefined, bodyTooLarge());
      discardRest(req);
    }
  };
  const onEnd = () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  const onClose = () => finish(undefined);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
}

function refuse(req: IncomingMessage, error: ApiError, done: (body: undefined, error: ApiError) => void): void {
  done(undefined, error);
  discardRest(req);
}

/** Connections still receiving the body of a request that has its answer already. */
const drainingAnswered = new WeakSet<Socket>();

/** True while `socket` is dropping the rest of a refused body: that request needs no other answer. */
export const isDrainingAnsweredRequest = (socket: Socket): boolean => drainingAnswered.has(socket);

/**
 * Reads and drops what the client still sends, for a while; the connection then stays usable.
 * Without `then` the request has its answer already; `then` runs once the whole body is read (at
 * once when it already is), never when the client leaves or is cut off first.
 */
export function discardRest(req: IncomingMessage, then?: () => void): void {
  if (req.complete) return then?.();
  const { socket } = req;
  // A request whose answer waits for the rest of its body still needs the client-error handler's answer if that rest is malformed.
  if (!then) drainingAnswered.add(socket);
  const giveUp = setTimeout(() => socket.destroy(), DISCARD_MS);
  giveUp.unref();
  const drained = () => {
    clearTimeout(giveUp);
    drainingAnswered.delete(socket);
  };
  req
    .once('end', () => {
      drained();
      then?.();
    })
    .once('close', drained);
  req.resume();
}
