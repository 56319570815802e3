import { matchPrefix } from '../gateway/prefix-rules.js';
import { resolveModel } from '../gateway/resolve.js';
import type { RoutingTable } from './routing-table.js';

export interface RouteExplanation {
  model: string;
  routable: boolean;
  reason: string;
  /** The prefix rule that matched, when the route came from one. */
  rule?: string;
  targets?: Array<{ name: string; kind: string; url: string; upstream_model: string; healthy: boolean }>;
  error?: { status: number; message: string };
}

/**
 * Which target would serve `model` and why, without sending anything. Offline, configured
 * services are not probed, so they count as up; agents count as up if their last heartbeat is recent.
 */
export function explainRoute(model: string, table: RoutingTable): RouteExplanation {
  for (const backend of table.fleet.list()) if (backend.kind === 'service') table.fleet.setHealth(backend, true);
  const route = resolveModel(model, table);
  const rule = matchPrefix(model);
  const fromRule = rule && table.providers.route(rule.provider) === route ? `${rule.prefix}* → ${rule.provider}` : undefined;
  if ('error' in route) {
    return { model, routable: false, reason: route.reason, rule: fromRule, error: { status: route.error.status, message: route.error.message } };
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
  const lines = [`model:   ${e.model}`];
  if (e.rule) lines.push(`rule:    ${e.rule}`);
  lines.push(`reason:  ${e.reason}`);
  for (const t of e.targets ?? []) lines.push(`target:  ${t.name} (${t.kind}) ${t.url} as '${t.upstream_model}'`);
  if (e.error) lines.push(`result:  ${e.error.status} ${e.error.message}`);
  return lines.join('\n');
}
