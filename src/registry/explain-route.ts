import { matchPrefix } from '../gateway/prefix-rules.js';
import { ModelResolver, unroutableError, type ResolvedStep } from '../gateway/model-resolver.js';
import type { Route } from '../gateway/resolve.js';
import { noHealthyBackend } from '../server/errors.js';
import type { RoutingTable } from './routing-table.js';

export interface RouteExplanation {
  model: string;
  routable: boolean;
  reason: string;
  /** The prefix rule that matched, when the route came from one. */
  rule?: string;
  targets?: Array<{ name: string; kind: string; url: string; upstream_model: string; healthy: boolean }>;
  error?: { status: number; message: string };
  /** For a model group (or a model with fallbacks): each model of its chain in order, with its weighted targets. */
  chain?: Array<{ model: string; targets: TargetExplanation[] }>;
}

/** A group's target: which model (of which service, if pinned) with what weight, and where that goes. */
export interface TargetExplanation extends Omit<RouteExplanation, 'chain'> {
  service?: string;
  weight: number;
}

/**
 * Which target would serve `model` and why, without sending anything, resolved as requests are
 * (model groups and fallbacks first). Offline, configured services are not probed, so they count
 * as up; agents count as up if their last heartbeat is recent.
 */
export function explainRoute(model: string, table: RoutingTable): RouteExplanation {
  for (const backend of table.fleet.list()) if (backend.kind === 'service') table.fleet.setHealth(backend, true);
  const resolver = new ModelResolver(table.modelGroups(), table);
  if (!resolver.isGroup(model)) return explainModel(model, resolver.resolve(model), table);
  const resolved = resolver.resolveChain(model);
  const chain = resolved.map((step) => ({ model: step.model, targets: explainTargets(step, table) }));
  const routable = chain.some((step) => step.targets.some((target) => target.routable));
  const error = routable ? undefined : unroutableError(model, resolved);
  return { model, routable, reason: resolver.describeGroup(model), ...(error ? { error: { status: error.status, message: error.message } } : {}), chain };
}

function explainTargets(step: ResolvedStep, table: RoutingTable): TargetExplanation[] {
  return step.targets.map(({ target, route }) => ({ ...explainModel(target.model, route, table), ...(target.service ? { service: target.service } : {}), weight: target.weight }));
}

function explainModel(model: string, route: Route, table: RoutingTable): RouteExplanation {
  const rule = matchPrefix(model);
  const fromRule = rule && table.providers.route(rule.provider) === route ? `${rule.prefix}* → ${rule.provider}` : undefined;
  if ('error' in route) {
    return { model, routable: false, reason: route.reason, rule: fromRule, error: { status: route.error.status, message: route.error.message } };
  }
  // A target pinned to a service that does not serve the model has nothing to send to.
  if (route.backends.length === 0) {
    const error = noHealthyBackend(model);
    return { model, routable: false, reason: route.reason, rule: fromRule, error: { status: error.status, message: error.message } };
  }
  return {
    model,
    routable: true,
    reason: route.reason,
    rule: fromRule,
    targets: route.backends.map((b) => ({ name: b.name, kind: b.kind, url: b.url, upstream_model: b.upstreamModelFor(model), healthy: b.healthy })),
  };
}

export function formatExplanation(e: RouteExplanation): string {
  const lines = [`model:   ${e.model}`, ...routeLines(e)];
  e.chain?.forEach((step, index) => {
    lines.push(index === 0 ? `group:   ${step.model}` : `fallback: ${step.model}`);
    for (const target of step.targets) {
      lines.push(`  ${target.model}${target.service ? `@${target.service}` : ''} (weight ${target.weight})`);
      lines.push(...routeLines(target).map((line) => `    ${line}`));
    }
  });
  if (e.chain && e.error) lines.push(`result:  ${e.error.status} ${e.error.message}`);
  return lines.join('\n');
}

function routeLines(e: Omit<RouteExplanation, 'model'>): string[] {
  const lines: string[] = [];
  if (e.rule) lines.push(`rule:    ${e.rule}`);
  lines.push(`reason:  ${e.reason}`);
  for (const t of e.targets ?? []) lines.push(`target:  ${t.name} (${t.kind}) ${t.url} as '${t.upstream_model}'`);
  if (e.error && !e.chain) lines.push(`result:  ${e.error.status} ${e.error.message}`);
  return lines;
}
