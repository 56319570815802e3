import type { ModelGroups } from '../gateway/model-resolver.js';
import type { GroupTarget, ModelGroupRow } from '../store/model-groups.js';
import { InvalidModelEntry } from './model-entry.js';

/**
 * Parses `MODEL[@SERVICE][:WEIGHT]` as given to `--target`. Model names may contain `:` (`llama3:8b`),
 * so only a numeric last part is a weight: a model whose name ends in `:NUMBER` needs an explicit weight.
 */
export function parseTargetSpec(spec: string): GroupTarget {
  let rest = spec.trim();
  let weight = 1;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && /^[0-9.eE+-]+$/.test(rest.slice(colon + 1))) {
    weight = Number(rest.slice(colon + 1));
    if (!Number.isFinite(weight) || weight <= 0) throw new InvalidModelEntry(`invalid target "${spec}": the weight must be a positive number`);
    rest = rest.slice(0, colon);
  }
  const at = rest.lastIndexOf('@');
  const model = at >= 0 ? rest.slice(0, at) : rest;
  const service = at >= 0 ? rest.slice(at + 1) : undefined;
  if (model === '') throw new InvalidModelEntry(`invalid target "${spec}": expected MODEL[@SERVICE][:WEIGHT]`);
  if (service === '') throw new InvalidModelEntry(`invalid target "${spec}": the service after "@" must not be empty`);
  return service === undefined ? { model, weight } : { model, service, weight };
}

/** Parses `--fallbacks a,b`: model names tried in order, none empty, repeated, or the entry itself. */
export function parseFallbacks(name: string, list: string): string[] {
  const fallbacks = list.split(',').map((model) => model.trim());
  if (fallbacks.some((model) => model === '')) throw new InvalidModelEntry(`invalid fallbacks "${list}": expected comma-separated model names`);
  if (fallbacks.includes(name)) throw new InvalidModelEntry(`"${name}" cannot be its own fallback`);
  const repeated = fallbacks.find((model, index) => fallbacks.indexOf(model) !== index);
  if (repeated !== undefined) throw new InvalidModelEntry(`fallback "${repeated}" is listed twice`);
  return fallbacks;
}

/**
 * The groups a router resolves: the YAML `model_groups` with the registry's on top. A registry
 * entry replaces a YAML group of the same name whole, because the registry is what operators
 * change on a running router (and what `models list` shows): the latest deliberate change wins.
 */
export function mergeModelGroups(configured: ModelGroups, registered: readonly ModelGroupRow[]): ModelGroups {
  const merged: ModelGroups = { ...configured };
  for (const row of registered) merged[row.name] = row.targets ? { targets: row.targets, fallbacks: row.fallbacks } : { fallbacks: row.fallbacks };
  return merged;
}

export function formatTargets(targets: readonly GroupTarget[]): string {
  return targets.map((t) => `${t.model}${t.service ? `@${t.service}` : ''}:${t.weight}`).join(',');
}
