import type { Config } from '../config/schema.js';
import { CacheAwarePolicy } from './cache-aware.js';
import { CostPolicy } from './cost.js';
import { LatencyPolicy } from './latency.js';
import { LeastLoadPolicy } from './least-load.js';
import { LeastOutstandingPolicy } from './least-outstanding.js';
import type { ChoosingPolicy } from './policy.js';
import { RandomPolicy } from './random.js';
import { RoundRobinPolicy } from './round-robin.js';
import { SessionPolicy } from './session.js';

export type RoutingConfig = Config['routing'];

const POLICIES: Record<string, (config: RoutingConfig) => ChoosingPolicy> = {
  'least-outstanding': () => new LeastOutstandingPolicy(),
  'round-robin': () => new RoundRobinPolicy(),
  random: () => new RandomPolicy(),
  'least-load': () => new LeastLoadPolicy(),
  latency: (c) => new LatencyPolicy(c.latency_weight),
  cost: (c) => new CostPolicy({ costWeight: c.cost_weight, latencyWeight: c.latency_weight, costThreshold: c.cost_threshold }),
  session: (c) => new SessionPolicy(c.session_header.toLowerCase()),
  'cache-aware': (c) =>
    new CacheAwarePolicy({
      blockChars: c.cache_aware.block_chars,
      matchThreshold: c.cache_aware.match_threshold,
      balanceAbs: c.cache_aware.balance_abs,
      balanceRel: c.cache_aware.balance_rel,
      maxBlocksPerReplica: c.cache_aware.max_blocks_per_replica,
    }),
};

export const POLICY_NAMES = Object.keys(POLICIES);

export function createPolicy(name: string, config: RoutingConfig): ChoosingPolicy {
  const factory = POLICIES[name];
  if (!factory) throw new Error(`unknown routing policy "${name}" (known: ${POLICY_NAMES.join(', ')})`);
  return factory(config);
}
