import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';
import { bodyTooLarge } from './read-body.js';

/** Every answer the router gives itself, including Fastify's own failures, is in the OpenAI error shape. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const apiError = error instanceof ApiError ? error : fromFastifyError(error);
    if (apiError.status >= 500) request.log.error({ err: error, requestId: request.id }, 'request failed');
    void reply.code(apiError.status).headers(apiError.headers).send(apiError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(404, `Unknown route: ${request.method} ${request.url}`, 'invalid_request_error', 'unknown_route');
    void reply.code(404).send(error.toJSON());
  });
}

function fromFastifyError(error: Error & { statusCode?: number; code?: string }): ApiError {
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
