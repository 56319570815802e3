import { ApiError } from '../server/errors.js';
import { CLIENT_GONE } from './relay.js';

export const CLIENT_CLOSED = 499;

export const CLIENT_GONE_ERROR = new ApiError(CLIENT_CLOSED, 'client disconnected', 'client_closed');

/** Why the request's signal fired, as the error the client should get (none when it did not fire). */
export function abortError(signal: AbortSignal): ApiError | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason === CLIENT_GONE ? CLIENT_GONE_ERROR : (signal.reason as ApiError);
}
