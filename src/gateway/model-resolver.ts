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

  steps(model: string): readonly RouteStep[] {
    let chain = this.chains.get(model);
    if (chain) return chain;
    const names = [model, ...(this.group(model)?.fallbacks ?? [])].filter((name, index, all) => all.indexOf(name) === index);
    chain = names.map((name) => ({ model: name, targets: this.group(name)?.targets ?? [{ model: name, weight: 1 }] }));
    // Only configured groups are remembered: arbitrary client model names must not grow the map.
    if (Object.hasOwn(this.groups, model)) this.chains.set(model, chain);
    return chain;
  }

  /** Where one step's target model goes now (registry, services and agents, prefix rules). */
  resolve(model: string): Route {
    return resolveModel(model, this.routes);
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
