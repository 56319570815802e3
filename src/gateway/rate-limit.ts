import { ApiError } from '../server/errors.js';
import type { Admission, Correction, LimitCharge } from '../state/shared-state.js';
import type { Caller } from './caller.js';
import type { InferenceRequest } from './inference-request.js';
import { completionCap, promptTokenEstimate } from './token-estimate.js';

export interface RateLimitOptions {
  /** Requests per minute of a caller whose key sets none. */
  defaultRpm: number | undefined;
  models: Record<string, { rpm?: number; tpm?: number }>;
  defaultCompletionTokens: number;
}

/** Tokens held against TPM counters until the real count is known. */
export interface Reservation {
  counters: string[];
  /** What each counter was charged: the estimate, capped at that counter's limit. */
  charged: number[];
}

const NO_RESERVATION: Reservation = { counters: [], charged: [] };

export const rateLimited = (counter: string, retryAfterMs: number) => {
  const unit = counter.startsWith('tpm:') ? 'tokens' : 'requests';
  const scope = counter.includes(':model:') ? `model '${counter.slice(counter.indexOf(':model:') + 7)}'` : 'this caller';
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError(429, `Rate limit reached for ${scope} on ${unit} per minute. Please try again in ${seconds}s.`, unit, 'rate_limit_exceeded', null, {
    'retry-after': String(seconds),
    'retry-after-ms': String(Math.max(0, Math.round(retryAfterMs))),
  });
};

/**
 * Requests and tokens per minute, per caller and per model, charged in one atomic step (by the
 * shared state's front door). Tokens are reserved from an estimate (prompt bytes / 4 + the
 * answer's token cap) and corrected when the usage is known.
 */
export class RateLimitStage {
  constructor(private readonly options: RateLimitOptions) {}

  /** The counters this request charges, and the token reservation to correct later. */
  plan(caller: Caller, request: InferenceRequest): { charges: LimitCharge[]; reservation: Reservation } {
    const charges: LimitCharge[] = [];
    const callerCharge = this.callerCharge(caller);
    if (callerCharge) charges.push(callerCharge);
    // The name the client asked for (a group's name for a group), not the model that will serve:
    // admission happens before dispatch picks one, and charging per attempt would put a shared-state
    // round trip in front of every retry and fallback.
    const model = this.options.models[request.model];
    if (model?.rpm !== undefined) charges.push({ counter: `rpm:model:${request.model}`, limit: model.rpm, cost: 1 });
    const tpm = caller.key?.tpm;
    let reservation = NO_RESERVATION;
    if (tpm !== undefined || model?.tpm !== undefined) {
      const tokens = this.estimate(request);
      reservation = { counters: [], charged: [] };
      if (tpm !== undefined) this.reserve(charges, reservation, `tpm:${caller.id}`, tpm, tokens);
      if (model?.tpm !== undefined) this.reserve(charges, reservation, `tpm:model:${request.model}`, model.tpm, tokens);
    }
    return { charges, reservation };
  }

  /** The charge of one request against the caller's requests per minute, if it has a limit. */
  callerCharge(caller: Caller): LimitCharge | undefined {
    const rpm = caller.key?.rpm ?? this.options.defaultRpm;
    return rpm === undefined ? undefined : { counter: `rpm:${caller.id}`, limit: rpm, cost: 1 };
  }

  /** The 429 for a refused charge. */
  refusal(admission: Admission): ApiError | undefined {
    if (admission.admitted || 'overBudget' in admission) return undefined;
    return rateLimited(admission.counter, admission.retryAfterMs);
  }

  /** What replaces the reservation by the tokens used (reported, or estimated when the answer reports none). */
  correction(reservation: Reservation, totalTokens: number): Correction | undefined {
    if (reservation.counters.length === 0) return undefined;
    // By what each counter was charged, not by the estimate: a capped charge corrected by the whole
    // estimate would take back tokens never charged and empty the window for the next request.
    const deltas = reservation.charged.map((charged) => totalTokens - charged);
    return deltas.every((delta) => delta === 0) ? undefined : { counters: reservation.counters, deltas };
  }

  private reserve(charges: LimitCharge[], reservation: Reservation, counter: string, limit: number, tokens: number): void {
    // A request larger than the whole limit is admitted into an empty window rather than never.
    const cost = Math.min(tokens, limit);
    charges.push({ counter, limit, cost });
    reservation.counters.push(counter);
    reservation.charged.push(cost);
  }

  private estimate(request: InferenceRequest): number {
    return promptTokenEstimate(request) + (request.endpoint === 'embeddings' ? 0 : (completionCap(request) ?? this.options.defaultCompletionTokens));
  }
}
