import type { Backend } from '../fleet/backend.js';
import { CHARS_PER_TOKEN, InflightTokens, type TokenClaim } from './inflight-tokens.js';
import { effectiveLoad } from './load.js';
import { ChoosingPolicy, type RouteChoice, type RouteOutcome, type RouteRequest } from './policy.js';
import { PrefixIndex } from './prefix-index.js';
import { DEFAULT_BLOCK_CHARS, prefixBlockHashes } from './prefix-hash.js';
import { canonicalPrompt } from './prompt-text.js';
import { fnv1a, rendezvousScore } from './rendezvous.js';
import { SessionHints, sessionHint } from './session-hints.js';

export interface CacheAwareOptions {
  /** UTF-8 bytes per hashed block, a multiple of 4 (≈ 4 × the engine's block size in tokens). */
  blockChars: number;
  /** Minimum matched fraction of the prompt's blocks for affinity to count. */
  matchThreshold: number;
  /** Affinity yields when the warm replica's load exceeds the least-loaded one's by more than this many requests… */
  balanceAbs: number;
  /** …and by more than this factor. */
  balanceRel: number;
  /** Blocks remembered per replica (bounds memory: ~60 bytes each). */
  maxBlocksPerReplica: number;
}

export const CACHE_AWARE_DEFAULTS: CacheAwareOptions = { blockChars: DEFAULT_BLOCK_CHARS, matchThreshold: 0.3, balanceAbs: 4, balanceRel: 1.5, maxBlocksPerReplica: 16_384 };

/** Session hints remembered (a few MB at most). */
const MAX_SESSION_HINTS = 65_536;

/** What the router sent where, per request body, until its result comes back. */
interface Dispatch {
  claim: TokenClaim;
  /** Fraction of the prompt the match predicted cached; undefined when the choice did not follow a match. */
  predictedCached: number | undefined;
}

/**
 * Sends a request where its prompt prefix was sent before, unless that replica is clearly busier
 * than the least-loaded one ("sticky until saturated", judged per warm replica rather than over
 * the whole fleet, so one hot group does not switch off affinity for all the others). Each turn of
 * a conversation indexes its whole prompt, so the next turn matches everything but its new tail.
 *
 * Load is counted in tokens the router has sent and not seen finish (uncached prompt + expected
 * decode, see InflightTokens); a candidate's cost is that load plus what this request would not
 * find cached there. Among replicas whose match clears the threshold the cheapest wins; with none,
 * the request's session hint (`prompt_cache_key`, `user`) keeps it where its session went; else
 * the cheapest replica overall takes it, which spreads distinct prefixes. Replicas equally cheap
 * (all idle, at low load) are told apart by rendezvous hashing of the prompt's first block, not by
 * a rotation: a rotation would put every new prefix on the same replica whenever the traffic
 * between two new prefixes is a multiple of the replica count. The imbalance override
 * stays in requests: it guards queue length and batch slots, whatever the requests cost.
 */
export class CacheAwarePolicy extends ChoosingPolicy {
  readonly name = 'cache-aware';
  private readonly indexes = new Map<string, PrefixIndex>();
  private readonly tokens = new InflightTokens();
  private readonly sessions = new SessionHints(MAX_SESSION_HINTS);
  private readonly dispatches = new WeakMap<object, Dispatch>();
  private turn = 0;

  /** `now`: milliseconds on a monotonic clock (tests freeze it: pending prompt tokens drain with time). */
  constructor(
    private readonly options: CacheAwareOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
  }

  /** Blocks remembered for a replica (for tests and stats). */
  indexedBlocks(name: string): number {
    return this.indexes.get(name)?.size ?? 0;
  }

  /** The replica's current index bound (shrinks when the engine turns out to have evicted). */
  indexCapacity(name: string): number | undefined {
    return this.indexes.get(name)?.capacity;
  }

  /** Tokens the router has sent to a replica and estimates still pending there. */
  pendingTokens(name: string): number {
    return this.tokens.pendingTokens(name, this.now());
  }

  choose(candidates: readonly Backend[], request: RouteRequest): RouteChoice {
    const now = this.now();
    const { blockChars, matchThreshold, balanceAbs, balanceRel } = this.options;
    const text = canonicalPrompt(request.body);
    const { hashes, bytes } = prefixBlockHashes(text, request.model, blockChars);
    // Tokens are estimated from characters, the cached share in bytes: the unit blocks are cut in.
    const promptTokens = text.length / CHARS_PER_TOKEN;
    const decode = this.tokens.expectedDecode(request.body);
    const hint = sessionHint(request.body);
    const hintReplica = hint === undefined ? undefined : this.sessions.replicaFor(hint);
    const minMatch = Math.max(1, Math.ceil(matchThreshold * hashes.length));

    let cheapest: Candidate | undefined;
    // Rendezvous rank of `cheapest` for the prompt's first block, computed only once a tie needs it.
    let cheapestRank: number | undefined;
    const placementKey = hashes.length === 0 ? undefined : hashes[0]! >>> 0;
    let warm: Candidate | undefined;
    let hinted: Candidate | undefined;
    let leastRequests: Candidate | undefined;
    const count = candidates.length;
    for (let i = 0; i < count; i++) {
      const backend = candidates[(this.turn + i) % count]!;
      const matched = hashes.length === 0 ? 0 : (this.indexes.get(backend.name)?.longestMatch(hashes) ?? 0);
      const uncached = matched === 0 ? promptTokens : promptTokens * (1 - (matched * blockChars) / bytes);
      const candidate = { backend, matched, uncached, cost: this.tokens.load(backend, now) + uncached + decode, requests: effectiveLoad(backend, now) };
      if (!cheapest || candidate.cost < cheapest.cost) {
        cheapest = candidate;
        cheapestRank = undefined;
      } else if (candidate.cost === cheapest.cost && placementKey !== undefined) {
        cheapestRank ??= rendezvousScore(placementKey, fnv1a(cheapest.backend.name));
        const rank = rendezvousScore(placementKey, fnv1a(backend.name));
        if (rank > cheapestRank) {
          cheapest = candidate;
          cheapestRank = rank;
        }
      }
      if (matched >= minMatch && (!warm || candidate.cost < warm.cost)) warm = candidate;
      if (backend.name === hintReplica) hinted = candidate;
      if (!leastRequests || candidate.requests < leastRequests.requests || (candidate.requests === leastRequests.requests && candidate.cost < leastRequests.cost)) leastRequests = candidate;
    }
    const best = warm ?? cheapest!;
    const details: Record<string, unknown> = {
      matched_blocks: best.matched,
      prompt_blocks: hashes.length,
      match_ratio: hashes.length === 0 ? 0 : Number((best.matched / hashes.length).toFixed(3)),
      uncached_tokens: Math.round(best.uncached),
      pending_tokens: Math.round(best.cost - best.uncached - decode),
      least_loaded: leastRequests!.backend.name,
      least_load: leastRequests!.requests,
    };
    const sticky = warm ?? hinted;
    const dispatch = { request, hashes, hint, decode };
    if (!sticky) return this.choice(cheapest!, 'no-prefix-match', false, details, dispatch);
    if (sticky.requests - leastRequests!.requests > balanceAbs && sticky.requests > balanceRel * leastRequests!.requests) {
      return this.choice(leastRequests!, 'imbalance', false, { ...details, warm: sticky.backend.name, warm_load: sticky.requests }, dispatch);
    }
    return this.choice(sticky, warm ? 'prefix-match' : 'session-hint', true, { ...details, load: sticky.requests }, dispatch);
  }

  private choice(chosen: Candidate, reason: string, affinity: boolean, details: Record<string, unknown>, { request, hashes, hint, decode }: PendingDispatch): RouteChoice {
    const { backend, matched, uncached } = chosen;
    const predictedCached = reason === 'prefix-match' ? matched / hashes.length : undefined;
    return {
      backend,
      reason,
      affinity,
      details,
      commit: () => {
        this.turn++;
        this.indexFor(backend.name).insert(hashes);
        if (hint !== undefined) this.sessions.remember(hint, backend.name);
        // An earlier pick of the same request (a retry) has had its outcome, which released its claim.
        this.dispatches.set(request.body, { claim: this.tokens.claim(backend.name, uncached, decode, this.now()), predictedCached });
      },
    };
  }

  /**
   * Releases the request's pending tokens: as prefilled once it was served or streamed a first
   * token, else as never sent (a failed attempt: a replica that refuses fast has not worked through
   * its queue). `usage.prompt_tokens_details.cached_tokens` is the engine's ground truth: far fewer
   * cached tokens than the match predicted means it evicted what the index still lists, so that
   * replica's index forgets its older half and keeps less from then on; a confirmed hit lets it
   * grow back. (The request's own prefix stays: the engine has just computed and cached it again.)
   */
  override onResult(backend: Backend, request: RouteRequest, outcome: RouteOutcome): void {
    const now = this.now();
    const dispatch = this.dispatches.get(request.body);
    if (dispatch) {
      this.dispatches.delete(request.body);
      const prefilled = outcome.ok || outcome.ttftS !== undefined;
      if (prefilled && dispatch.claim.backend === backend.name) this.tokens.finished(dispatch.claim, outcome.ttftS, now);
      else this.tokens.release(dispatch.claim, now);
    }
    this.tokens.settled(backend, outcome.usage?.completion_tokens, now);
    if (dispatch?.predictedCached === undefined || dispatch.claim.backend !== backend.name) return;
    const cached = outcome.usage?.prompt_tokens_details?.cached_tokens;
    const prompt = outcome.usage?.prompt_tokens;
    const index = this.indexes.get(backend.name);
    if (!outcome.ok || cached === undefined || !prompt || !index) return;
    if (cached / prompt < dispatch.predictedCached / 2) index.evicted();
    else index.confirmed();
  }

  override forget(name: string): void {
    this.forgetCache(name);
    this.tokens.forget(name);
  }

  /** Its prefixes and the sessions sent there: their KV cache is what an ejected engine has lost. */
  override forgetCache(name: string): void {
    this.indexes.delete(name);
    this.sessions.forget(name);
  }

  private indexFor(name: string): PrefixIndex {
    let index = this.indexes.get(name);
    if (!index) this.indexes.set(name, (index = new PrefixIndex(this.options.maxBlocksPerReplica)));
    return index;
  }
}

interface Candidate {
  backend: Backend;
  /** Leading prompt blocks this replica's index holds. */
  matched: number;
  /** Estimated prompt tokens beyond the match. */
  uncached: number;
  /** Pending tokens here plus what this request adds (`uncached` + expected decode). */
  cost: number;
  /** Requests to work through here (load.ts). */
  requests: number;
}

interface PendingDispatch {
  request: RouteRequest;
  hashes: number[];
  hint: string | undefined;
  decode: number;
}
