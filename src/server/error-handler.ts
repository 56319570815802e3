import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Endpoint } from '../gateway/inference-request.js';
import { apiErrorBody, writeApiError } from '../gateway/relay.js';
import { ApiError, echoed } from './errors.js';
import { errorShapeOf } from './inference-routes.js';
import { bodyTooLarge, isDrainingAnsweredRequest } from './read-body.js';

/**
 * Every answer the router gives itself, including Fastify's own failures, is in the OpenAI error
 * shape, or in Anthropic's on the Messages API's paths (the token count, and any other method or
 * path under /v1/messages, which the Anthropic SDK would read as an error without a message).
 */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: RouteFailure, request, reply) => sendApiError(request, reply, answerOf(error, request)));
  app.setNotFoundHandler((request, reply) => {
    sendApiError(request, reply, new ApiError(404, `Unknown route: ${request.method} ${echoed(request.url)}`, 'invalid_request_error', 'unknown_route'));
  });
}

function sendApiError(request: FastifyRequest, reply: FastifyReply, error: ApiError): void {
  void reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(apiErrorBody(error, errorShapeOf(request.url)));
}

type RouteFailure = Error & { statusCode?: number; code?: string };

/**
 * What a route's failure answers: its ApiError, or a Fastify error's (an unreadable body, one too
 * large). Only the router's own faults are logged (with their stack): an unexpected error, or a
 * 500. A 503 the route answers on purpose (`/v1/models/gpt-4o` without an OpenAI key, a model
 * whose targets are down) is the fleet's state, which anyone could otherwise fill the log with.
 */
function answerOf(error: RouteFailure, request: FastifyRequest): ApiError {
  const apiError = error instanceof ApiError ? error : fromFastifyError(error);
  if (!(error instanceof ApiError) || apiError.status === 500) request.log.error({ err: error, requestId: request.id }, 'request failed');
  return apiError;
}

function fromFastifyError(error: RouteFailure): ApiError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return bodyTooLarge();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, error.message, 'invalid_request_error', 'invalid_body');
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  return new ApiError(status, status === 500 ? 'Internal router error' : error.message, status >= 500 ? 'server_error' : 'invalid_request_error');
}

/** Requests Fastify cannot route at all (a path that is not valid percent-encoding), answered with the start of the path, as Fastify's message would repeat it whole. */
export function frameworkErrors(_error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendApiError(request, reply, new ApiError(400, `'${echoed(request.url)}' is not a valid url component`, 'invalid_request_error', 'invalid_url'));
}

/**
 * Requests that never became requests: unparsable HTTP, headers over the limit, or a request not
 * received within its time. Answered on the socket itself, in the OpenAI error shape like the rest,
 * or in Anthropic's when the request line read names a Messages API path (see requestedShape).
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  // The answer to the request whose head was read (a body that never came), if any.
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  // A request answered already (a 413 whose body is being drained), or an answer under way, cannot be followed by another.
  const answering = isDrainingAnsweredRequest(socket) || response?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) return void socket.destroy();
  const shape = response?.req?.url === undefined ? requestedShape(error.rawPacket) : errorShapeOf(response.req.url);
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') answerOnSocket(socket, 408, 'Request Timeout', 'The request was not received in time', 'request_timeout', '', shape);
  else if (error.code === 'HPE_HEADER_OVERFLOW') answerOnSocket(socket, 431, 'Request Header Fields Too Large', 'The request headers are larger than this router accepts', 'headers_too_large', '', shape);
  else answerOnSocket(socket, 400, 'Bad Request', `Malformed HTTP request (${error.code ?? error.message})`, 'malformed_request', '', shape);
}

/** Longest start of a request line read for its target: a Messages API path, even in absolute-form behind a long host name, is far shorter. */
const REQUEST_LINE_READ = 1024;
/** A method, then the request target, each followed by a space: a target cut off by the bound is no target. */
const REQUEST_LINE_START = /^[!-~]+ ([!-~]+) /;

/**
 * The error shape a refused request asked for, from the bytes Node's parser refused (`rawPacket`):
 * the chunk read from the socket that the error came in. It begins with the request line when the
 * head came in one read (with requests pipelined in that read, the first one's); a head over the
 * limit that came in several (a large one sent in pieces) begins within the headers, and is
 * answered in the OpenAI shape. Node keeps no earlier bytes, and reading the socket ourselves would
 * cost every request.
 */
function requestedShape(rawPacket: unknown): Endpoint | undefined {
  // A Buffer from Node's parser, whatever Fastify's types say; absent on the errors of other origins (a timeout).
  if (!Buffer.isBuffer(rawPacket)) return undefined;
  const target = REQUEST_LINE_START.exec(rawPacket.toString('latin1', 0, REQUEST_LINE_READ))?.[1];
  return target === undefined ? undefined : errorShapeOf(target);
}

/** HTTP/1.1 requires a Host header (RFC 9112): refused here, as Node's own check answers a bare 400. True when refused. */
export function refuseWithoutHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersion !== '1.1') return false;
  writeApiError(res, new ApiError(400, 'An HTTP/1.1 request needs a Host header', 'invalid_request_error', 'missing_host'), { connection: 'close' });
  return true;
}

/** An `Expect` other than 100-continue, which Node answers with a bare 417 unless told otherwise. */
export function refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
  const message = `Expect: '${req.headers.expect}' is not supported (only 100-continue is)`;
  writeApiError(res, new ApiError(417, message, 'invalid_request_error', 'expectation_failed'), {});
}

/** How long a refused CONNECT's connection may stay open after its answer, waiting for the client to close it. */
const CONNECT_LINGER_MS = 5000;

/**
 * CONNECT, which a client sends to what it takes for a proxy: Node hands it over as a bare socket
 * and, left alone, closes it without a word.
 */
export function refuseConnect(_request: IncomingMessage, socket: Socket): void {
  // Node no longer watches this socket: its errors (a client's reset would be an uncaught exception) and its life are ours.
  socket.on('error', () => socket.destroy());
  socket.setTimeout(CONNECT_LINGER_MS, () => socket.destroy());
  answerOnSocket(socket, 405, 'Method Not Allowed', 'CONNECT is not supported: this router is not a proxy', 'method_not_allowed', `allow: ${SERVED_METHODS}\r\n`);
}

/** The methods some route of the router answers. */
const SERVED_METHODS = 'GET, HEAD, POST, DELETE';

function answerOnSocket(socket: Socket, status: number, reason: string, message: string, code: string, headers = '', shape?: Endpoint): void {
  const body = apiErrorBody(new ApiError(status, message, 'invalid_request_error', code), shape);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers}connection: close\r\n\r\n${body}`);
}
