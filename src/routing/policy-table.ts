import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { ChoosingPolicy, RouteChoice, RouteOutcome, RouteRequest, RoutingPolicy } from './policy.js';
import { createPolicy, type RoutingConfig } from './registry.js';

/**
 * The router's routing: the global policy, or a model's own one from `routing.models`. Each model
 * with its own policy gets its own instance (rotations and prefix indexes are per model group).
 * Backends that leave the fleet are forgotten by every policy.
 */
export class PolicyTable implements RoutingPolicy {
  readonly name: string;
  private readonly fallback: ChoosingPolicy;
  private readonly byModel = new Map<string, ChoosingPolicy>();
  private known: Set<string>;

  constructor(config: RoutingConfig, fleet: Fleet) {
    this.name = config.policy;
    this.fallback = createPolicy(config.policy, config);
    for (const [model, policy] of Object.entries(config.models)) this.byModel.set(model, createPolicy(policy, config));
    this.known = new Set(fleet.list().map((b) => b.name));
    fleet.on('change', () => {
      const current = new Set(fleet.list().map((b) => b.name));
      for (const name of this.known) if (!current.has(name)) this.forget(name);
      this.known = current;
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

  private forget(name: string): void {
    this.fallback.forget(name);
    for (const policy of this.byModel.values()) policy.forget(name);
  }
}
