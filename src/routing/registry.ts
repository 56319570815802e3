import { LeastOutstandingPolicy } from './least-outstanding.js';
import type { RoutingPolicy } from './policy.js';

const POLICIES: Record<string, () => RoutingPolicy> = {
  'least-outstanding': () => new LeastOutstandingPolicy(),
};

export const POLICY_NAMES = Object.keys(POLICIES);

export function createPolicy(name: string): RoutingPolicy {
  const factory = POLICIES[name];
  if (!factory) throw new Error(`unknown routing policy "${name}" (known: ${POLICY_NAMES.join(', ')})`);
  return factory();
}
