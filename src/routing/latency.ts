import type { Backend } from '../fleet/backend.js';
import { effectiveLoad } from './load.js';
import { lowestScore } from './lowest-score.js';
import { ChoosingPolicy, type RouteChoice, type RouteOutcome, type RouteRequest } from './policy.js';
import { TtftAverage } from './ttft-average.js';

/**
 * Lowest `load + latencyWeight × TTFT-EWMA / fleet-average TTFT-EWMA`: latency relative to the
 * other candidates, so the weight is scale-free (1 = a replica twice as slow as average counts as
 * one more queued request). An absolute latency term herds traffic onto whichever replica looked
 * fastest a moment ago, which then becomes the slowest (measured: p99 TTFT ×10 on shared-prefix).
 * A replica with no sample yet counts as average.
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
    let sum = 0;
    let measured = 0;
    for (const candidate of candidates) {
      const average = this.ttft.get(candidate.name);
      if (average === undefined) continue;
      sum += average;
      measured++;
    }
    const fleetAverage = measured > 0 && sum > 0 ? sum / measured : undefined;
    const { backend: best, score: bestScore } = lowestScore(candidates, this.turn, (candidate) => {
      const relative = fleetAverage === undefined ? 1 : (this.ttft.get(candidate.name) ?? fleetAverage) / fleetAverage;
      return effectiveLoad(candidate, now) + this.latencyWeight * relative;
    });
    const ttftS = this.ttft.get(best.name);
    return { backend: best, reason: 'lowest-latency-score', affinity: false, details: { score: Number(bestScore.toFixed(3)), ttft_ewma_s: ttftS ?? null }, commit: () => void this.turn++ };
  }

  override onResult(backend: Backend, _request: RouteRequest, outcome: RouteOutcome): void {
    this.ttft.record(backend.name, outcome);
  }

  override forget(name: string): void {
    this.ttft.forget(name);
  }
}
