import type { Backend } from '../fleet/backend.js';
import { ChoosingPolicy, type RouteChoice } from './policy.js';

export class RandomPolicy extends ChoosingPolicy {
  readonly name = 'random';

  constructor(private readonly random: () => number = Math.random) {
    super();
  }

  choose(candidates: readonly Backend[]): RouteChoice {
    return { backend: candidates[Math.floor(this.random() * candidates.length)]!, reason: 'random', affinity: false };
  }
}
