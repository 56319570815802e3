import type { Backend } from '../fleet/backend.js';
import { lowestScore } from './lowest-score.js';
import { ChoosingPolicy, type RouteChoice } from './policy.js';

/** Fewest router-side in-flight requests; a rotating start point makes ties round-robin. */
export class LeastOutstandingPolicy extends ChoosingPolicy {
  readonly name = 'least-outstanding';
  private turn = 0;

  choose(candidates: readonly Backend[]): RouteChoice {
    const best = lowestScore(candidates, this.turn, (candidate) => candidate.inflight).backend;
    return { backend: best, reason: 'least-outstanding', affinity: false, details: { in_flight: best.inflight }, commit: () => void this.turn++ };
  }
}
