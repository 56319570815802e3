import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

/**
 * Deepest nesting of objects and arrays a body may have. JSON.parse reads any depth, but what
 * the router does with a body afterwards (re-serialising it, the cache key, translations) recurses
 * and overflows the stack some thousands of levels down; real requests, tool schemas included,
 * stay well within this.
 */
const MAX_NESTING = 128;

/** A request body as JSON (undefined when empty), or the 400 to answer. */
export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  // Invalid bytes would be read as U+FFFD here, and otherwise by the backend: the two would not read the same request.
  if (!isUtf8(bytes)) throw badRequest('We could not parse the JSON body of your request: it is not valid UTF-8', null, 'invalid_body');
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString());
  } catch (error) {
    throw badRequest(`We could not parse the JSON body of your request: ${(error as Error).message}`);
  }
  if (typeof body === 'object' && body !== null && nestedDeeperThan(body, MAX_NESTING)) throw badRequest(`The request body is nested more than ${MAX_NESTING} levels deep`, null, 'invalid_body');
  return body;
}

/** The body without the UTF-8 byte order mark some tools write before JSON (RFC 8259 lets a parser ignore it). */
export function withoutByteOrderMark(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/**
 * Whether `value` (an object or array) has more than `levels` levels of objects and arrays. Only
 * containers are visited, no deeper than `levels`: long arrays of numbers (token ids) cost a type check each.
 */
function nestedDeeperThan(value: object, levels: number): boolean {
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestedDeeperThan(item, levels - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestedDeeperThan(item, levels - 1)) return true;
  }
  return false;
}

/** Bodies of any content type are read as JSON: clients of the replaced routers do not all send `application/json`. */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(withoutByteOrderMark(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
