import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Gateway } from '../gateway/gateway.js';
import { RESPONSE_CALLS, type Endpoint, type RequestIdentity, type ResponseCall } from '../gateway/inference-request.js';
import type { ResponseCallRequest } from '../gateway/response-calls.js';
import { writeApiError } from '../gateway/relay.js';
import { parseJsonBody, withoutByteOrderMark } from './body-parser.js';
import { hasLooped } from '../upstream/via.js';
import { ApiError, loopDetected, shuttingDown } from './errors.js';
import { discardRest, readBody } from './read-body.js';
import { requestId } from './request-id.js';
import { retrieveQuery, type RetrieveQuery } from './retrieve-query.js';
import { isPlausibleModelName, validateInference } from './validate.js';

const ENDPOINT_PATHS: ReadonlyArray<[string, Endpoint]> = [
  ['/v1/chat/completions', 'chat'],
  ['/chat/completions', 'chat'],
  ['/v1/completions', 'completions'],
  ['/completions', 'completions'],
  ['/v1/embeddings', 'embeddings'],
  ['/embeddings', 'embeddings'],
  ['/v1/responses', 'responses'],
  ['/responses', 'responses'],
  // Anthropic's SDK always adds `/v1` to its base URL; without it the path would be a name many APIs use for other things.
  ['/v1/messages', 'messages'],
];
// With a trailing slash too: the FastAPI routers Switchyard replaces redirected `/v1/chat/completions/` (307, which keeps the POST) and clients followed.
const ENDPOINT_OF_PATH = new Map<string, Endpoint>(ENDPOINT_PATHS.flatMap(([path, endpoint]) => [[path, endpoint], [`${path}/`, endpoint]]));

export interface InferenceRoutes {
  /** Answers the request if it is an inference call; false leaves it to the rest of the app. */
  take(req: IncomingMessage, res: ServerResponse): boolean;
  /** From now on, inference calls are refused with 503 so that a load balancer sends them elsewhere. */
  drain(): void;
}

/**
 * The inference endpoints, served on node:http directly rather than through Fastify's routing,
 * body parsing and reply objects: they are the hot path, and Fastify's per-request work was over
 * a tenth of the router's CPU per proxied request (BENCHMARKS.md). Every other route is Fastify's.
 */
export function inferenceRoutes(gateway: Gateway, maxBodyBytes: number, log: Logger): InferenceRoutes {
  let draining = false;
  const fail = (res: ServerResponse, id: string, failure: unknown, endpoint?: Endpoint) => {
    log.error({ err: failure, requestId: id }, 'request failed');
    if (res.headersSent) res.destroy();
    else writeApiError(res, new ApiError(500, 'Internal router error', 'server_error'), { 'x-request-id': id }, endpoint);
  };
  /** A Responses API call on a stored response; false when the request is none. Its body, if any, means nothing and is dropped. */
  const takeResponseCall = (req: IncomingMessage, res: ServerResponse): boolean => {
    const target = responseCallOf(req.method!, req.url!);
    if (target === undefined) return false;
    const id = requestId(req);
    const identity = { id, endpoint: `responses.${target.call}` as const, model: '', startedAt: performance.now() };
    discardRest(req, () => {
      if (draining || hasLooped(req.headers.via)) return refuse(gateway, res, identity, draining ? shuttingDown() : loopDetected());
      identity.startedAt = performance.now();
      let retrieve: RetrieveQuery | undefined;
      try {
        retrieve = target.call === 'retrieve' ? retrieveQuery(target.query) : undefined;
      } catch (invalid) {
        return refuse(gateway, res, identity, invalid as ApiError);
      }
      gateway.handleResponseCall({ ...identity, ...target, retrieve, headers: req.headers }, res).catch((failure: unknown) => fail(res, id, failure));
    });
    return true;
  };
  return {
    take(req, res) {
      const endpoint = req.method === 'POST' ? ENDPOINT_OF_PATH.get(pathOf(req.url!)) : undefined;
      if (endpoint === undefined) return takeResponseCall(req, res);
      const id = requestId(req);
      const arrivedAt = performance.now();
      if (draining || hasLooped(req.headers.via)) {
        // Answered once the body is read: the answer closes the connection, and closing it while
        // the client is still sending resets it before the client reads the answer.
        discardRest(req, () => refuse(gateway, res, { id, endpoint, model: '', startedAt: arrivedAt }, draining ? shuttingDown() : loopDetected()));
        return true;
      }
      readBody(req, maxBodyBytes, (received, error) => {
        if (error) return refuse(gateway, res, { id, endpoint, model: '', startedAt: arrivedAt }, error);
        if (received === undefined) return;
        // What goes upstream as it came, but for a byte order mark not every engine's parser skips.
        const raw = withoutByteOrderMark(received);
        // From here on, not before: how long the client takes to send its body is not the router's time.
        const startedAt = performance.now();
        let body: unknown;
        let fields: { model: string; stream: boolean };
        try {
          body = parseJsonBody(raw);
          fields = validateInference(endpoint, body, req.headers);
        } catch (invalid) {
          return refuse(gateway, res, { id, endpoint, model: modelOf(body), startedAt }, invalid as ApiError);
        }
        gateway.handle({ id, endpoint, ...fields, body: body as Record<string, unknown>, raw, headers: req.headers, startedAt }, res).catch((failure: unknown) => fail(res, id, failure, endpoint));
      });
      return true;
    },
    drain() {
      draining = true;
    },
  };
}

/** The route whose error shape a refusal before routing takes: Anthropic's on the Messages API's paths (the route and its token count), else OpenAI's. */
export function errorShapeOf(url: string): Endpoint | undefined {
  const path = pathOf(url);
  return path === '/v1/messages' || path.startsWith('/v1/messages/') ? 'messages' : undefined;
}

/** The path a request target names, in origin-form (`/v1/…?query`) or absolute-form (`http://host/v1/…`, as clients send to a proxy); empty when it names none. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (path.charCodeAt(0) === 0x2f) return path;
  const authority = path.indexOf('://');
  const start = authority < 0 ? -1 : path.indexOf('/', authority + 3);
  return start < 0 ? '' : path.slice(start);
}

const RESPONSES_PREFIXES = ['/v1/responses/', '/responses/'];
const RESPONSE_CALL_NAMES = Object.keys(RESPONSE_CALLS) as ResponseCall[];

/**
 * The call on a stored response a request names (`GET /v1/responses/{id}`, `DELETE …`, `POST …/cancel`,
 * `GET …/input_items`, prefixed or not, with a trailing slash too), with its id percent-decoded and
 * its query as sent; undefined for anything else, a path that is not valid percent-encoding
 * included (the app answers those). A `HEAD` is the `GET` call: answered as it is, the body left
 * out (node:http sends none to a HEAD), as the app's GET routes answer HEAD; a streamed one is not
 * read at all (headersOnly).
 */
function responseCallOf(requestMethod: string, url: string): Pick<ResponseCallRequest, 'call' | 'responseId' | 'query' | 'headersOnly'> | undefined {
  const method = requestMethod === 'HEAD' ? 'GET' : requestMethod;
  if (method !== 'GET' && method !== 'DELETE' && method !== 'POST') return undefined;
  let path = pathOf(url);
  const prefix = RESPONSES_PREFIXES.find((candidate) => path.startsWith(candidate));
  if (prefix === undefined) return undefined;
  path = path.slice(prefix.length);
  if (path.endsWith('/')) path = path.slice(0, -1);
  const slash = path.indexOf('/');
  const segment = slash < 0 ? path : path.slice(0, slash);
  const suffix = slash < 0 ? '' : path.slice(slash);
  const call = RESPONSE_CALL_NAMES.find((name) => RESPONSE_CALLS[name].method === method && RESPONSE_CALLS[name].suffix === suffix);
  if (call === undefined || segment === '') return undefined;
  let responseId: string;
  try {
    responseId = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  const query = url.indexOf('?');
  return { call, responseId, query: query < 0 ? '' : url.slice(query), headersOnly: requestMethod === 'HEAD' };
}

/** Answers a request the router will not route, and counts it like every other answer. */
function refuse(gateway: Gateway, res: ServerResponse, request: RequestIdentity, error: ApiError): void {
  writeApiError(res, error, { 'x-request-id': request.id }, request.endpoint);
  gateway.refused(request, error.status);
}

/** The model an invalid body asked for, when it names one that may be logged. */
function modelOf(body: unknown): string {
  const model = (body as { model?: unknown } | null | undefined)?.model;
  return typeof model === 'string' && isPlausibleModelName(model) ? model : '';
}
