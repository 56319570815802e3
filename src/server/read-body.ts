import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

export const bodyTooLarge = () =>
  new ApiError(413, 'The request body is larger than this router accepts', 'invalid_request_error', 'request_too_large', null, { connection: 'close' });

/**
 * Reads a request body of at most `limit` bytes. `done` is called once: with the bytes, with
 * an error to answer (413), or with neither when the client went away before sending it all.
 */
export function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | undefined, error?: ApiError) => void): void {
  if (Number(req.headers['content-length']) > limit) return done(undefined, bodyTooLarge());
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
    else finish(undefined, bodyTooLarge());
  };
  const onEnd = () => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  const onClose = () => finish(undefined);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
}
