/** An error the router answers itself, in the OpenAI error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The most of a client's value (an id, a query parameter) an error message repeats: the value may be as long as the request itself, its message need not be. */
const ECHOED_CHARS = 64;

/** A client's value as an error message repeats it: whole, or its first ECHOED_CHARS characters (no surrogate pair split) and an ellipsis. */
export function echoed(value: string): string {
  if (value.length <= ECHOED_CHARS) return value;
  const end = isHighSurrogate(value.charCodeAt(ECHOED_CHARS - 1)) ? ECHOED_CHARS - 1 : ECHOED_CHARS;
  return `${value.slice(0, end)}…`;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, message, 'invalid_request_error', code, param);

export const modelNotFound = (model: string) =>
  new ApiError(404, `The model '${model}' does not exist or is not served by any backend`, 'invalid_request_error', 'model_not_found', 'model');

export const noHealthyBackend = (model: string) =>
  new ApiError(503, `No healthy backend is available for model '${model}'`, 'service_unavailable', 'no_healthy_backend', 'model');

/** A prefix rule would send `model` to a provider while `service`, which may serve it, has not yet said which models it serves. */
export const modelsNotYetKnown = (model: string, service: string) =>
  new ApiError(
    503,
    `The service '${service}' has not yet reported which models it serves, and '${model}' may be one of them: it is not sent to a hosted provider by a prefix rule until '${service}' answers`,
    'service_unavailable',
    'models_not_yet_known',
    'model',
  );

/** As OpenAI and the engines answer a continuation of a response they do not hold. */
export const previousResponseNotFound = (responseId: string, why?: string) =>
  new ApiError(404, `Previous response with id '${echoed(responseId)}' not found${why === undefined ? '' : `: ${why}`}.`, 'invalid_request_error', 'previous_response_not_found', 'previous_response_id');

/** As OpenAI answers a call on a response it does not hold (or holds for another project). */
export const responseNotFound = (responseId: string, why = 'the router keeps no response of that id, and no replica is known to hold it') =>
  new ApiError(404, `Response with id '${echoed(responseId)}' not found: ${why}.`, 'invalid_request_error', 'response_not_found');

export const badGateway = (message: string) => new ApiError(502, message, 'upstream_error', 'bad_gateway');

export const gatewayTimeout = (seconds: number) =>
  new ApiError(504, `The request did not complete within ${seconds}s`, 'timeout_error', 'gateway_timeout');

export const loopDetected = () =>
  new ApiError(508, 'The request came back to this router through one of its targets: a target (an agent, a service) points back at the router', 'server_error', 'loop_detected');

export const shuttingDown = () => new ApiError(503, 'The router is shutting down', 'service_unavailable', 'shutting_down', null, { connection: 'close' });

export const providerKeyMissing = (provider: string, variable: string) =>
  new ApiError(503, `The provider '${provider}' is not configured: set ${variable}`, 'service_unavailable', 'provider_not_configured');

export const unauthorized = (message: string) => new ApiError(401, message, 'authentication_error', 'invalid_api_key');
