import type { Fleet } from '../fleet/fleet.js';

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
 * its ordered fallbacks, or the fleet's model of that name. Chains are built once per name.
 */
export class ModelResolver {
  private readonly chains = new Map<string, readonly RouteStep[]>();

  constructor(
    private readonly groups: ModelGroups,
    private readonly fleet: Fleet,
  ) {}

  /** True when the name is a group or some backend lists it. */
  knows(model: string): boolean {
    return model in this.groups || this.fleet.knows(model);
  }

  steps(model: string): readonly RouteStep[] | undefined {
    let chain = this.chains.get(model);
    if (chain) return chain;
    if (!this.knows(model)) return undefined;
    const names = [model, ...(this.groups[model]?.fallbacks ?? [])].filter((name, index, all) => all.indexOf(name) === index);
    chain = names.map((name) => ({ model: name, targets: this.groups[name]?.targets ?? [{ model: name, weight: 1 }] }));
    // Only configured groups are remembered: arbitrary client model names must not grow the map.
    if (model in this.groups) this.chains.set(model, chain);
    return chain;
  }

  /** Model group names, for the model list. */
  groupNames(): string[] {
    return Object.keys(this.groups);
  }
}
