import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { ChoosingPolicy, RouteChoice, RouteOutcome, RouteRequest, RoutingPolicy } from './policy.js';
import { createPolicy, type RoutingConfig } from './registry.js';

/**
 * The router's routing: the global policy, or a model's own one from `routing.models`. Each model
 * with its own policy gets its own instance (rotations and prefix indexes are per model group).
 * Backends that leave the fleet are forgotten by every policy; the cache state of one that is
 * ejected is forgotten then, since it usually comes back as a restarted engine with an empty cache.
 */
export class PolicyTable implements RoutingPolicy {
  readonly name: string;
  private readonly fallback: ChoosingPolicy;
  private readonly byModel = new Map<string, ChoosingPolicy>();
  private members: Set<string>;
  private healthy: Set<string>;

  constructor(config: RoutingConfig, fleet: Fleet) {
    this.name = config.policy;
    this.fallback = createPolicy(config.policy, config);
    for (const [model, policy] of Object.entries(config.models)) this.byModel.set(model, createPolicy(policy, config));
    this.members = new Set(fleet.list().map((b) => b.name));
    this.healthy = new Set(fleet.list().filter((b) => b.healthy).map((b) => b.name));
    fleet.on('change', () => {
      const backends = fleet.list();
      const members = new Set(backends.map((b) => b.name));
      const healthy = new Set(backends.filter((b) => b.healthy).map((b) => b.name));
      for (const name of this.members) if (!members.has(name)) this.everyPolicy((policy) => policy.forget(name));
      for (const name of this.healthy) if (members.has(name) && !healthy.has(name)) this.everyPolicy((policy) => policy.forgetCache(name));
      this.members = members;
      this.healthy = healthy;
    });
  }

  policyFor(model: string): ChoosingPolicy {
    return this.byModel.get(model) ?? this.fallback;
  }

  pick(candidates: readonly Backend[], request: RouteRequest): Backend {
    return this.policyFor(request.model).pick(candidates, request);
  }

  explain(candidates: readonly Backend[], request: RouteRequest): RouteChoice & { policy: string } {
    const policy = this.policyFor(request.model);
    return { ...policy.explain(candidates, request), policy: policy.name };
  }

  onResult(backend: Backend, request: RouteRequest, outcome: RouteOutcome): void {
    this.policyFor(request.model).onResult(backend, request, outcome);
  }

  private everyPolicy(apply: (policy: ChoosingPolicy) => void): void {
    apply(this.fallback);
    for (const policy of this.byModel.values()) apply(policy);
  }
}
