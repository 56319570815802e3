import type { Backend } from '../fleet/backend.js';
import { effectiveLoad } from './load.js';
import { lowestScore } from './lowest-score.js';
import { ChoosingPolicy, type RouteChoice, type RouteOutcome, type RouteRequest } from './policy.js';
import { canonicalPrompt } from './prompt-text.js';
import { TtftAverage } from './ttft-average.js';

export interface CostOptions {
  /** ROUTER_COST_WEIGHT: weight of the request's estimated price. */
  costWeight: number;
  /** ROUTER_LATENCY_WEIGHT: weight of the backend's typical time to first token (seconds). */
  latencyWeight: number;
  /** ROUTER_COST_THRESHOLD: estimated prompt tokens above which only self-hosted backends are used. */
  costThreshold: number;
}

/** Relative price per 1,000 tokens: self-hosted capacity is already paid for, a cloud provider is not. */
const relativePrice = (backend: Backend) => (backend.kind === 'provider' ? 1 : 0);

/**
 * The replaced router's cost rule: a request whose estimated size (≈ 4 characters per token)
 * exceeds the threshold stays on self-hosted backends; otherwise the lowest
 * `costWeight × price × tokens/1000 + latencyWeight × TTFT-EWMA × (1 + load)` wins.
 */
export class CostPolicy extends ChoosingPolicy {
  readonly name = 'cost';
  private readonly ttft = new TtftAverage();
  private turn = 0;

  constructor(private readonly options: CostOptions) {
    super();
  }

  choose(candidates: readonly Backend[], request: RouteRequest): RouteChoice {
    const now = performance.now();
    const tokens = canonicalPrompt(request.body).length / 4;
    const local = tokens > this.options.costThreshold ? candidates.filter((c) => c.kind !== 'provider') : [];
    const pool = local.length > 0 ? local : candidates;
    const { backend: best, score: bestScore } = lowestScore(pool, this.turn, (candidate) => {
      const load = effectiveLoad(candidate, now);
      return this.options.costWeight * relativePrice(candidate) * (tokens / 1000) + this.options.latencyWeight * (this.ttft.get(candidate.name) ?? 0) * (1 + load) + load * 1e-6;
    });
    const reason = local.length > 0 ? 'over-cost-threshold' : 'lowest-cost-score';
    return { backend: best, reason, affinity: false, details: { estimated_prompt_tokens: Math.round(tokens), score: bestScore }, commit: () => void this.turn++ };
  }

  override onResult(backend: Backend, _request: RouteRequest, outcome: RouteOutcome): void {
    this.ttft.record(backend.name, outcome);
  }

  override forget(name: string): void {
    this.ttft.forget(name);
  }
}
