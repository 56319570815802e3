import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers the router adds that a browser client may read (the SDKs use the request id and the rate-limit wait). */
const EXPOSED = 'x-request-id, x-switchyard-target, x-switchyard-overhead-ms, x-switchyard-cache, retry-after, retry-after-ms';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_S = '600';

export interface Cors {
  /**
   * Adds the CORS headers an allowed browser origin needs, for every route (the inference fast path
   * and Fastify's alike), and answers its preflight itself. True when the request has been answered.
   */
  apply(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Cross-origin access for browser clients (a web UI calling the router directly, as it would call
 * OpenAI). `origins` lists the allowed origins exactly as browsers send them, or `*` for any;
 * empty turns CORS off. Credentials are never allowed: callers authenticate with a bearer key.
 */
export function cors(origins: readonly string[]): Cors | undefined {
  if (origins.length === 0) return undefined;
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return {
    apply(req, res) {
      const origin = req.headers.origin;
      if (origin === undefined || !(anyOrigin || allowed.has(origin))) return false;
      // Echoing one origin of a list varies the answer by origin: shared caches must know.
      if (anyOrigin) res.setHeader('access-control-allow-origin', '*');
      else {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('vary', 'Origin');
      }
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!preflight) {
        res.setHeader('access-control-expose-headers', EXPOSED);
        return false;
      }
      res.writeHead(204, {
        'access-control-allow-methods': ALLOWED_METHODS,
        // The SDKs send their own headers (x-stainless-*, anthropic-version…): whatever the browser asks for is allowed.
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type',
        'access-control-max-age': PREFLIGHT_MAX_AGE_S,
      });
      res.end();
      return true;
    },
  };
}
