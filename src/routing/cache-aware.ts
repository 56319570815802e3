import type { Backend } from '../fleet/backend.js';
import { effectiveLoad, leastLoaded } from './load.js';
import { ChoosingPolicy, type RouteChoice, type RouteOutcome, type RouteRequest } from './policy.js';
import { PrefixIndex } from './prefix-index.js';
import { prefixBlockHashes } from './prefix-hash.js';
import { canonicalPrompt } from './prompt-text.js';

export interface CacheAwareOptions {
  /** Characters per hashed block (≈ 4 × the engine's block size in tokens). */
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

export const CACHE_AWARE_DEFAULTS: CacheAwareOptions = { blockChars: 64, matchThreshold: 0.3, balanceAbs: 4, balanceRel: 1.5, maxBlocksPerReplica: 16_384 };

/**
 * Sends a request where its prompt prefix was sent before, unless that replica is clearly busier
 * than the least-loaded one ("sticky until saturated", judged per warm replica rather than over
 * the whole fleet, so one hot group does not switch off affinity for all the others). With no good
 * match it goes to the least-loaded replica, which spreads distinct prefixes.
 */
export class CacheAwarePolicy extends ChoosingPolicy {
  readonly name = 'cache-aware';
  private readonly indexes = new Map<string, PrefixIndex>();
  /** What a prefix-match choice predicted, per request body, until its result comes back. */
  private readonly predictions = new WeakMap<object, { backend: string; cachedFraction: number }>();
  private turn = 0;

  constructor(private readonly options: CacheAwareOptions) {
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

  choose(candidates: readonly Backend[], request: RouteRequest): RouteChoice {
    const now = performance.now();
    const hashes = prefixBlockHashes(canonicalPrompt(request.body), request.model, this.options.blockChars);
    const least = leastLoaded(candidates, this.turn, now);
    let warm: Backend | undefined;
    let warmLoad = 0;
    let matched = 0;
    if (hashes.length > 0) {
      for (const candidate of candidates) {
        const match = this.indexes.get(candidate.name)?.longestMatch(hashes) ?? 0;
        if (match === 0 || match < matched) continue;
        const load = effectiveLoad(candidate, now);
        if (match > matched || load < warmLoad) {
          warm = candidate;
          warmLoad = load;
          matched = match;
        }
      }
    }
    const ratio = hashes.length === 0 ? 0 : matched / hashes.length;
    const details = { matched_blocks: matched, prompt_blocks: hashes.length, match_ratio: Number(ratio.toFixed(3)), least_loaded: least.backend.name, least_load: least.load };
    const commit = (backend: Backend) => () => {
      this.turn++;
      this.indexFor(backend.name).insert(hashes);
    };
    if (!warm || ratio < this.options.matchThreshold) {
      return { backend: least.backend, reason: 'no-prefix-match', affinity: false, details, commit: commit(least.backend) };
    }
    const { balanceAbs, balanceRel } = this.options;
    if (warmLoad - least.load > balanceAbs && warmLoad > balanceRel * least.load) {
      return { backend: least.backend, reason: 'imbalance', affinity: false, details: { ...details, warm: warm.name, warm_load: warmLoad }, commit: commit(least.backend) };
    }
    const commitWarm = commit(warm);
    const prediction = { backend: warm.name, cachedFraction: ratio };
    return {
      backend: warm,
      reason: 'prefix-match',
      affinity: true,
      details: { ...details, load: warmLoad },
      commit: () => {
        commitWarm();
        this.predictions.set(request.body, prediction);
      },
    };
  }

  /**
   * `usage.prompt_tokens_details.cached_tokens` is the engine's ground truth: far fewer cached
   * tokens than the match predicted means it evicted what the index still lists, so that replica's
   * index forgets its older half and keeps less from then on; a confirmed hit lets it grow back.
   * (The request's own prefix stays: the engine has just computed and cached it again.)
   */
  override onResult(backend: Backend, request: RouteRequest, outcome: RouteOutcome): void {
    const prediction = this.predictions.get(request.body);
    if (!prediction || prediction.backend !== backend.name) return;
    this.predictions.delete(request.body);
    const cached = outcome.usage?.prompt_tokens_details?.cached_tokens;
    const prompt = outcome.usage?.prompt_tokens;
    const index = this.indexes.get(backend.name);
    if (!outcome.ok || cached === undefined || !prompt || !index) return;
    const observed = cached / prompt;
    if (observed < prediction.cachedFraction / 2) index.evicted();
    else index.confirmed();
  }

  override forget(name: string): void {
    this.indexes.delete(name);
  }

  private indexFor(name: string): PrefixIndex {
    let index = this.indexes.get(name);
    if (!index) this.indexes.set(name, (index = new PrefixIndex(this.options.maxBlocksPerReplica)));
    return index;
  }
}
