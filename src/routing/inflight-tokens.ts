import type { Backend } from '../fleet/backend.js';
import { othersQueued } from './load.js';

/** Rough characters per token of chat text (no tokeniser on the hot path). */
export const CHARS_PER_TOKEN = 4;
/** Completion length assumed before any answer has been seen, when a request sets no limit. */
const INITIAL_EXPECTED_DECODE = 256;
const DECODE_AVERAGE_WEIGHT = 0.05;

/** A dispatched request's share of a replica's pending work. */
export interface TokenClaim {
  backend: string;
  tokens: number;
}

/**
 * Router-owned pending work per replica in tokens: estimated uncached prompt tokens plus expected
 * decode tokens of every request the router sent there and has not seen end. Counted at dispatch
 * and released at completion, so a burst between engine scrapes is never invisible; the engine's
 * own queue corrects it only for load the router did not send (other clients).
 */
export class InflightTokens {
  private readonly pending = new Map<string, number>();
  private meanDecode = INITIAL_EXPECTED_DECODE;

  /** Decode tokens a request will likely cost: the mean answer length seen so far, capped by its own limit. */
  expectedDecode(body: Record<string, unknown>): number {
    const limit = body.max_completion_tokens ?? body.max_tokens;
    return typeof limit === 'number' && limit > 0 ? Math.min(limit, this.meanDecode) : this.meanDecode;
  }

  /**
   * `max(scraped, local since scrape)` in tokens: the router's own pending tokens plus the engine's
   * queue beyond the router's requests, each of those valued at this replica's mean pending request.
   */
  load(backend: Backend, now: number): number {
    const local = this.pending.get(backend.name) ?? 0;
    const others = othersQueued(backend, now);
    if (others === 0) return local;
    const perRequest = backend.inflight > 0 ? local / backend.inflight : this.meanDecode;
    return local + others * perRequest;
  }

  claim(backend: string, tokens: number): TokenClaim {
    this.pending.set(backend, (this.pending.get(backend) ?? 0) + tokens);
    return { backend, tokens };
  }

  release(claim: TokenClaim): void {
    const left = (this.pending.get(claim.backend) ?? 0) - claim.tokens;
    this.pending.set(claim.backend, Math.max(0, left));
  }

  /**
   * A request ended on `backend`. Once the router has nothing in flight there its pending tokens
   * must be zero: this clears claims that were never released (a pick whose every attempt failed
   * ends with no result for that replica).
   */
  settled(backend: Backend, completionTokens: number | undefined): void {
    if (backend.inflight === 0) this.pending.set(backend.name, 0);
    if (completionTokens !== undefined) this.meanDecode += DECODE_AVERAGE_WEIGHT * (completionTokens - this.meanDecode);
  }

  pendingTokens(name: string): number {
    return this.pending.get(name) ?? 0;
  }

  forget(name: string): void {
    this.pending.delete(name);
  }
}
