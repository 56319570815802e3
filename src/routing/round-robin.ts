import type { Backend } from '../fleet/backend.js';
import { ChoosingPolicy, type RouteChoice } from './policy.js';

export class RoundRobinPolicy extends ChoosingPolicy {
  readonly name = 'round-robin';
  private turn = 0;

  choose(candidates: readonly Backend[]): RouteChoice {
    return { backend: candidates[this.turn % candidates.length]!, reason: 'rotation', affinity: false, commit: () => void this.turn++ };
  }
}
