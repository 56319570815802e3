import type { Backend } from '../fleet/backend.js';
import { ChoosingPolicy, type RouteChoice } from './policy.js';

/** Fewest router-side in-flight requests; a rotating start point makes ties round-robin. */
export class LeastOutstandingPolicy extends ChoosingPolicy {
  readonly name = 'least-outstanding';
  private turn = 0;

  choose(candidates: readonly Backend[]): RouteChoice {
    const count = candidates.length;
    const start = this.turn % count;
    let best = candidates[start]!;
    for (let i = 1; i < count; i++) {
      const candidate = candidates[(start + i) % count]!;
      if (candidate.inflight < best.inflight) best = candidate;
    }
    return { backend: best, reason: 'least-outstanding', affinity: false, details: { in_flight: best.inflight }, commit: () => void this.turn++ };
  }
}
