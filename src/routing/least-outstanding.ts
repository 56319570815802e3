import type { Backend } from '../fleet/backend.js';
import type { RoutingPolicy } from './policy.js';

/** Fewest in-flight requests; a rotating start point makes ties round-robin. */
export class LeastOutstandingPolicy implements RoutingPolicy {
  readonly name = 'least-outstanding';
  private turn = 0;

  pick(candidates: readonly Backend[]): Backend {
    const count = candidates.length;
    const start = this.turn++ % count;
    let best = candidates[start]!;
    for (let i = 1; i < count; i++) {
      const candidate = candidates[(start + i) % count]!;
      if (candidate.inflight < best.inflight) best = candidate;
    }
    return best;
  }
}
