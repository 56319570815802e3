import type { Backend } from '../fleet/backend.js';
import { othersQueued } from './load.js';

/** Rough characters per token of chat text (no tokeniser on the hot path). */
export const CHARS_PER_TOKEN = 4;
/** Completion length assumed before any answer has been seen, when a request sets no limit. */
const INITIAL_EXPECTED_DECODE = 256;
/** Prefill rate assumed before any time-to-first-token has been seen (estimated tokens per ms, a mid-range GPU). */
const INITIAL_PREFILL_PER_MS = 10;
const AVERAGE_WEIGHT = 0.1;

/** A dispatched request's share of a replica's pending work. */
export interface TokenClaim {
  backend: string;
  prefill: number;
  decode: number;
  /** The replica's cumulative claimed prefill once this claim was added: done once the engine has prefilled that far. */
  through: number;
  /** Prefill tokens pending at dispatch, this request's included: what its time to first token paid for. */
  ahead: number;
}

interface ReplicaTokens {
  /** Cumulative prefill tokens claimed. */
  claimed: number;
  /** Cumulative prefill tokens known or estimated done, as of `drainedAt`. */
  drained: number;
  drainedAt: number;
  /** Expected decode tokens of requests that have not finished. */
  decoding: number;
  /** Learned prefill rate, estimated tokens per ms. */
  prefillPerMs: number;
}

/**
 * Router-owned pending work per replica in tokens: estimated uncached prompt tokens plus expected
 * decode tokens of every request the router sent there and has not seen finish. Updated at
 * dispatch and completion, so a burst between engine scrapes is never invisible. Engines admit in
 * FIFO order, so the prompt part is a queue that drains at the replica's prefill rate (learned
 * from each result's time to first token): a replica whose last request is already decoding is not
 * as busy as one that has just been handed a long prompt, which request counts cannot tell apart.
 */
export class InflightTokens {
  private readonly replicas = new Map<string, ReplicaTokens>();
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
    const replica = this.replicas.get(backend.name);
    const local = replica ? replica.claimed - drainedBy(replica, now) + replica.decoding : 0;
    const others = othersQueued(backend, now);
    if (others === 0) return local;
    const perRequest = backend.inflight > 0 ? local / backend.inflight : this.meanDecode;
    return local + others * perRequest;
  }

  claim(backend: string, prefill: number, decode: number, now: number): TokenClaim {
    const replica = this.replicaFor(backend, now);
    settleDrain(replica, now, drainedBy(replica, now));
    replica.claimed += prefill;
    replica.decoding += decode;
    return { backend, prefill, decode, through: replica.claimed, ahead: replica.claimed - replica.drained };
  }

  /** The claim's request was never served there (its attempt failed and it went elsewhere). */
  release(claim: TokenClaim, now: number): void {
    const replica = this.replicas.get(claim.backend);
    if (!replica) return;
    settleDrain(replica, now, drainedBy(replica, now) + claim.prefill);
    replica.decoding = Math.max(0, replica.decoding - claim.decode);
  }

  /** The claim's request finished: everything dispatched before it has been prefilled, and its TTFT tells the rate. */
  finished(claim: TokenClaim, ttftS: number | undefined, now: number): void {
    const replica = this.replicas.get(claim.backend);
    if (!replica) return;
    settleDrain(replica, now, Math.max(drainedBy(replica, now), claim.through));
    replica.decoding = Math.max(0, replica.decoding - claim.decode);
    if (ttftS !== undefined && ttftS > 0) replica.prefillPerMs += AVERAGE_WEIGHT * (claim.ahead / (ttftS * 1000) - replica.prefillPerMs);
  }

  /**
   * A request ended on `backend`. Once the router has nothing in flight there its pending tokens
   * must be zero: this clears what the estimates left over (decode lengths, prefill rates).
   */
  settled(backend: Backend, completionTokens: number | undefined, now: number): void {
    const replica = this.replicas.get(backend.name);
    if (replica && backend.inflight === 0) {
      settleDrain(replica, now, replica.claimed);
      replica.decoding = 0;
    }
    if (completionTokens !== undefined) this.meanDecode += AVERAGE_WEIGHT * (completionTokens - this.meanDecode);
  }

  pendingTokens(name: string, now: number): number {
    const replica = this.replicas.get(name);
    return replica ? replica.claimed - drainedBy(replica, now) + replica.decoding : 0;
  }

  forget(name: string): void {
    this.replicas.delete(name);
  }

  private replicaFor(name: string, now: number): ReplicaTokens {
    let replica = this.replicas.get(name);
    if (!replica) this.replicas.set(name, (replica = { claimed: 0, drained: 0, drainedAt: now, decoding: 0, prefillPerMs: INITIAL_PREFILL_PER_MS }));
    return replica;
  }
}

/** Prefill done by `now`: what was known done plus the learned rate since, never more than was claimed. */
function drainedBy(replica: ReplicaTokens, now: number): number {
  return Math.min(replica.claimed, replica.drained + replica.prefillPerMs * Math.max(0, now - replica.drainedAt));
}

/** Records `drained` as of `now`; capped at what was claimed, so idle time is no credit against later work. */
function settleDrain(replica: ReplicaTokens, now: number, drained: number): void {
  replica.drained = Math.min(replica.claimed, drained);
  replica.drainedAt = now;
}
