import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeApiError } from '../gateway/relay.js';
import { ApiError } from './errors.js';
import { errorShapeOf } from './inference-routes.js';
import { discardRest } from './read-body.js';

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
  const allows = allowedOrigins(origins);
  return {
    apply(req, res) {
      const origin = req.headers.origin;
      if (origin === undefined || !allows(origin)) return false;
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

function allowedOrigins(origins: readonly string[]): (origin: string) => boolean {
  if (origins.includes('*')) return () => true;
  const allowed = new Set(origins);
  return (origin) => allowed.has(origin);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses (403 `cross_origin_refused`) a request a browser sends on behalf of a page of another
 * origin that `cors.origins` does not allow, unless its method is safe. Browsers send such
 * "simple" requests (a form's POST, `fetch` with `mode: 'no-cors'` and a text/plain body) without
 * asking first; the page cannot read the answer, but the request takes effect: any web page the
 * operator visits could register an agent on an open router at localhost (and receive its
 * models' prompts) or spend its provider keys. Clients that are not browsers send no `Origin`.
 * True when the request has been answered.
 */
export function foreignOriginGuard(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allows = allowedOrigins(origins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin === undefined || SAFE_METHODS.has(req.method!) || allows(origin) || isSameOrigin(origin, req.headers.host)) return false;
    return refusePageRequest(req, res, new ApiError(403, `Requests from pages of the origin '${origin}' are not allowed: list it in cors.origins`, 'permission_error', 'cross_origin_refused'));
  };
}

/** Answers a request a page may not make before its body is read, in its path's error shape; the rest of the body is drained, so the connection stays usable. */
export function refusePageRequest(req: IncomingMessage, res: ServerResponse, refusal: ApiError): true {
  writeApiError(res, refusal, {}, errorShapeOf(req.url!));
  discardRest(req);
  return true;
}

/**
 * The router's own pages (the dashboard) send their own origin: scheme, then the Host they were
 * loaded from. So does a page rebound to the router by DNS: `rebindingGuard` refuses it first.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  const authority = origin.indexOf('://');
  return host !== undefined && authority !== -1 && origin.slice(authority + 3) === host;
}
