import type { Backend } from '../fleet/backend.js';
import { leastLoaded } from './load.js';
import { ChoosingPolicy, type RouteChoice } from './policy.js';

/** Fewest requests to work through: router in-flight counts corrected by fresh engine metrics (see load.ts). */
export class LeastLoadPolicy extends ChoosingPolicy {
  readonly name = 'least-load';
  private turn = 0;

  choose(candidates: readonly Backend[]): RouteChoice {
    const { backend, load } = leastLoaded(candidates, this.turn, performance.now());
    return { backend, reason: 'least-load', affinity: false, details: { load }, commit: () => void this.turn++ };
  }
}
