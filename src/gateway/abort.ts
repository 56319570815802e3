import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { ApiError, gatewayTimeout } from '../server/errors.js';

export const CLIENT_CLOSED = 499;

/** The abort reason when the client went away, compared by identity. */
export const CLIENT_GONE = new Error('client disconnected');

export const CLIENT_GONE_ERROR = new ApiError(CLIENT_CLOSED, 'client disconnected', 'client_closed');

/**
 * One request's cancellation: the client went away, or its deadline passed. An EventEmitter, not
 * an AbortController: undici takes either, and an EventTarget costs several microseconds on every
 * request. The few waits that need a real AbortSignal (backoff sleeps) ask for one.
 */
export class RequestAbort extends EventEmitter<{ abort: [] }> {
  aborted = false;
  reason: unknown;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }

  /** An AbortSignal that fires with this request's abort. */
  asSignal(): AbortSignal {
    const controller = new AbortController();
    if (this.aborted) controller.abort(this.reason);
    else this.once('abort', () => controller.abort(this.reason));
    return controller.signal;
  }
}

/**
 * The abort of a request being answered on `res`: fired by its deadline or by the client going
 * away (and by the router, shutting down). `release()` once the answer has ended.
 */
export class AnswerAbort extends RequestAbort {
  // Dropped by release(): an abort outlives its request here and there (the upstream call's handler
  // keeps it until undici lets go of that), and with the response still attached the request's
  // whole object graph survived young-generation collections, was promoted, and raised the
  // router's resident memory under load by ~40 MB until the next full collection.
  private res: ServerResponse | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly onClose = () => {
    if (this.res && !this.res.writableFinished) this.abort(CLIENT_GONE);
  };

  constructor(res: ServerResponse, timeoutS: number) {
    super();
    this.res = res;
    this.deadline = setTimeout(() => this.abort(gatewayTimeout(timeoutS)), timeoutS * 1000);
    res.on('close', this.onClose);
  }

  release(): void {
    clearTimeout(this.deadline);
    this.res?.removeListener('close', this.onClose);
    this.res = undefined;
    this.deadline = undefined;
  }
}

/** Why the request was aborted, as the error the client should get (none when it was not). */
export function abortError(abort: RequestAbort): ApiError | undefined {
  if (!abort.aborted) return undefined;
  return abort.reason === CLIENT_GONE ? CLIENT_GONE_ERROR : (abort.reason as ApiError);
}

/**
 * Whether the request was stopped at its deadline: the one stop that counts against the backend
 * (it was too slow). A client that left, or the router shutting down, says nothing about it.
 */
export function stoppedByDeadline(abort: RequestAbort): boolean {
  return abort.aborted && (abort.reason as Partial<ApiError>).code === 'gateway_timeout';
}

/** Whether the router itself stopped the request (shutting down): neither the client nor the backend's doing. */
export function stoppedByRouter(abort: RequestAbort): boolean {
  return abort.aborted && abort.reason !== CLIENT_GONE && !stoppedByDeadline(abort);
}
