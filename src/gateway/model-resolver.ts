import type { Backend } from '../fleet/backend.js';
import { noHealthyBackend, type ApiError } from '../server/errors.js';
import { resolveModel, type Route, type RouteSources } from './resolve.js';

export interface RouteTarget {
  /** The fleet's model name. */
  model: string;
  service?: string;
  weight: number;
}

/** One model of a request's chain: the requested one first, then its fallbacks in order. */
export interface RouteStep {
  model: string;
  targets: readonly RouteTarget[];
}

/** One model of a chain with where each of its targets goes now. */
export interface ResolvedStep {
  model: string;
  targets: ReadonlyArray<{ target: RouteTarget; route: Route }>;
}

export type ModelGroups = Record<string, { targets?: Array<{ model: string; service?: string; weight: number }>; fallbacks: string[] }>;

/**
 * Turns a requested model name into its chain of steps: a model group's weighted targets and
 * its ordered fallbacks, or the model of that name itself (each step's targets are then resolved
 * like any model: registry, services and agents, prefix rules). Group chains are built once.
 */
export class ModelResolver {
  private readonly chains = new Map<string, readonly RouteStep[]>();

  constructor(
    private groups: ModelGroups,
    private readonly routes: RouteSources,
  ) {}

  /** Swaps in a new set of groups (the registry changed); chains built from the old ones are dropped. */
  replaceGroups(groups: ModelGroups): void {
    this.groups = groups;
    this.chains.clear();
  }

  /** True when the name is a group, a registry entry or a model some backend lists (bounds metric labels). */
  knows(model: string): boolean {
    return Object.hasOwn(this.groups, model) || this.routes.fleet.knows(model) || this.routes.registry.route(model) !== undefined;
  }

  /** True when the name is known or a group lists it as a target or fallback: its metric series stay while no backend serves it. */
  isNamed(model: string): boolean {
    return this.knows(model) || Object.values(this.groups).some((group) => group.fallbacks.includes(model) || group.targets?.some((target) => target.model === model));
  }

  /** The chain of `model`, then the fallbacks the client named (each a model or a group's targets) that it does not hold yet. */
  steps(model: string, clientFallbacks?: readonly string[]): readonly RouteStep[] {
    let chain = this.chains.get(model);
    if (!chain) {
      chain = this.chainOf([model, ...(this.group(model)?.fallbacks ?? [])]);
      // Only configured groups are remembered: arbitrary client model names must not grow the map.
      if (Object.hasOwn(this.groups, model)) this.chains.set(model, chain);
    }
    return clientFallbacks === undefined ? chain : this.chainOf([...chain.map((step) => step.model), ...clientFallbacks]);
  }

  private chainOf(models: readonly string[]): RouteStep[] {
    const names = models.filter((name, index, all) => all.indexOf(name) === index);
    return names.map((name) => ({ model: name, targets: this.group(name)?.targets ?? [{ model: name, weight: 1 }] }));
  }

  /** Where one step's target model goes now (registry, services and agents, prefix rules). */
  resolve(model: string): Route {
    return resolveModel(model, this.routes);
  }

  /** Where a target goes now: its model's route, narrowed to the one service the target names, if any (possibly to no backend). */
  resolveTarget(target: RouteTarget): Route {
    const route = this.resolve(target.model);
    if ('error' in route || target.service === undefined) return route;
    const service = target.service;
    return { backends: route.backends.filter((backend) => isService(backend, service)), reason: `${route.reason}, only service '${service}'` };
  }

  /** True when the name is a model group or has fallbacks: its chain is more than the model itself. */
  isGroup(model: string): boolean {
    return this.group(model) !== undefined;
  }

  /** The whole chain (steps) resolved at once, for explanations (a request resolves it step by step as it goes). */
  resolveChain(model: string, clientFallbacks?: readonly string[]): ResolvedStep[] {
    return this.steps(model, clientFallbacks).map((step) => ({ model: step.model, targets: step.targets.map((target) => ({ target, route: this.resolveTarget(target) })) }));
  }

  /** How a group routes, in words: its weighted targets and fallbacks. */
  describeGroup(model: string): string {
    const group = this.group(model);
    const targets = (group?.targets ?? [{ model, weight: 1 }]).map((t) => `${t.model}${t.service ? `@${t.service}` : ''} (weight ${t.weight})`);
    const fallbacks = group?.fallbacks.length ? `, then falling back to ${group.fallbacks.join(', ')}` : '';
    return `model group '${model}': ${targets.join(', ')}${fallbacks}`;
  }

  // Own properties only: a client asking for "constructor" must not find Object.prototype's.
  private group(name: string): ModelGroups[string] | undefined {
    return Object.hasOwn(this.groups, name) ? this.groups[name] : undefined;
  }

  /** Model group names, for the model list. */
  groupNames(): string[] {
    return Object.keys(this.groups);
  }
}

/** Why nothing of a chain can take a request: the first target's own reason, else no healthy backend (as a request answers). */
export function unroutableError(model: string, chain: readonly ResolvedStep[]): ApiError {
  for (const step of chain) for (const { route } of step.targets) if ('error' in route) return route.error;
  return noHealthyBackend(model);
}

/** A target's `service` names a configured service or agent, or a hosted provider by its own name ("openai" for provider:openai). */
const isService = (backend: Backend, service: string): boolean => backend.name === service || (backend.kind === 'provider' && backend.name === `provider:${service}`);
