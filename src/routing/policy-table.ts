import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { ChoosingPolicy, RouteChoice, RouteOutcome, RouteRequest, RoutingPolicy } from './policy.js';
import { createPolicy, type RoutingConfig } from './registry.js';

/**
 * The router's routing: the global policy, or a model's or model group's own one from
 * `routing.models` (a group's governs the picks among its targets' replicas, before a target's
 * own). Each name with its own policy gets its own instance (rotations and prefix indexes are per
 * model group). A result goes back to the policy that made the pick, whichever name it arrives by.
 * Backends that leave the fleet are forgotten by every policy; the cache state of one that is
 * ejected is forgotten then, since it usually comes back as a restarted engine with an empty cache.
 */
export class PolicyTable implements RoutingPolicy {
  readonly name: string;
  private readonly fallback: ChoosingPolicy;
  private readonly byModel = new Map<string, ChoosingPolicy>();
  /** The policy that made each request's pending pick, by request body, until its outcome (each pick gets one before the next is made). */
  private readonly pickedBy = new WeakMap<object, ChoosingPolicy>();
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

  /** The policy for picks among `model`'s replicas on behalf of `group` (a model group, or the model itself). */
  policyFor(model: string, group?: string): ChoosingPolicy {
    return (group === undefined ? undefined : this.byModel.get(group)) ?? this.byModel.get(model) ?? this.fallback;
  }

  pick(candidates: readonly Backend[], request: RouteRequest): Backend {
    const policy = this.policyFor(request.model, request.group);
    // With one policy for every name there is nothing to remember, and a WeakMap entry per request costs the collector too.
    if (this.byModel.size > 0) this.pickedBy.set(request.body, policy);
    return policy.pick(candidates, request);
  }

  explain(candidates: readonly Backend[], request: RouteRequest): RouteChoice & { policy: string } {
    const policy = this.policyFor(request.model, request.group);
    return { ...policy.explain(candidates, request), policy: policy.name };
  }

  onResult(backend: Backend, request: RouteRequest, outcome: RouteOutcome): void {
    if (this.byModel.size === 0) return this.fallback.onResult(backend, request, outcome);
    const policy = this.pickedBy.get(request.body) ?? this.policyFor(request.model, request.group);
    this.pickedBy.delete(request.body);
    policy.onResult(backend, request, outcome);
  }

  private everyPolicy(apply: (policy: ChoosingPolicy) => void): void {
    apply(this.fallback);
    for (const policy of this.byModel.values()) apply(policy);
  }
}
