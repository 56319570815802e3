import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

/** A request body as JSON (undefined when empty), or the 400 to answer. */
export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString());
  } catch (error) {
    throw badRequest(`We could not parse the JSON body of your request: ${(error as Error).message}`);
  }
}

/** Bodies of any content type are read as JSON: clients of the replaced routers do not all send `application/json`. */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
