import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes as received, forwarded unchanged to OpenAI-compatible backends. */
    rawBody?: Buffer;
  }
}

/**
 * Parses JSON once and keeps the original bytes. Bodies of any content type are read as JSON:
 * clients of the replaced routers do not all send `application/json`.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    if (bytes.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(bytes.toString()));
    } catch (error) {
      done(badRequest(`We could not parse the JSON body of your request: ${(error as Error).message}`), undefined);
    }
  });
}
