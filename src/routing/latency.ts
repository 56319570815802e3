import type { Backend } from '../fleet/backend.js';
import { effectiveLoad } from './load.js';
import { ChoosingPolicy, type RouteChoice, type RouteOutcome, type RouteRequest } from './policy.js';
import { TtftAverage } from './ttft-average.js';

/**
 * Lowest `latencyWeight × EWMA(TTFT in ms) + load`: the weight says how many queued requests one
 * millisecond of typical time to first token is worth. A backend with no sample yet scores on load
 * alone, so new replicas get traffic and a sample.
 */
export class LatencyPolicy extends ChoosingPolicy {
  readonly name = 'latency';
  private readonly ttft = new TtftAverage();
  private turn = 0;

  constructor(private readonly latencyWeight: number) {
    super();
  }

  choose(candidates: readonly Backend[]): RouteChoice {
    const now = performance.now();
    const count = candidates.length;
    let best: Backend | undefined;
    let bestScore = Infinity;
    for (let i = 0; i < count; i++) {
      const candidate = candidates[(this.turn + i) % count]!;
      const score = this.latencyWeight * 1000 * (this.ttft.get(candidate.name) ?? 0) + effectiveLoad(candidate, now);
      if (score < bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    const ttftS = this.ttft.get(best!.name);
    return { backend: best!, reason: 'lowest-latency-score', affinity: false, details: { score: bestScore, ttft_ewma_s: ttftS ?? null }, commit: () => void this.turn++ };
  }

  override onResult(backend: Backend, _request: RouteRequest, outcome: RouteOutcome): void {
    this.ttft.record(backend.name, outcome);
  }

  override forget(name: string): void {
    this.ttft.forget(name);
  }
}
