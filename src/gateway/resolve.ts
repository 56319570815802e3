import type { ProviderName } from '../config/providers.js';
import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import { ApiError, modelNotFound, modelsNotYetKnown, noHealthyBackend } from '../server/errors.js';
import { matchPrefix } from './prefix-rules.js';

/** Where a model goes, or why it cannot go anywhere. */
export type Route = { backends: readonly Backend[]; reason: string } | { error: ApiError; reason: string };

export interface RouteSources {
  /** Exact entries of the model registry. */
  registry: { route(model: string): Route | undefined };
  /** Configured services and registered agents. */
  fleet: Fleet;
  /** Providers reachable by prefix rule; undefined when the provider is not available (no URL). */
  providers: { route(provider: ProviderName): Route | undefined };
}

const SERVED = 'served by a configured service or registered agent';
const NOT_HEALTHY = 'served by a configured service or registered agent, none healthy now';
const NO_MATCH = 'no registry entry, service, agent or prefix rule matches';
const AWAITING = 'a prefix rule matches, held back until every service has reported its models';

/**
 * The resolution order: 1. an exact registry entry; 2. a model served by a service or agent;
 * 3. the prefix rules, once every service has said which models it serves; 4. not found. Each step is a Map read or a short prefix scan.
 */
export function resolveModel(model: string, sources: RouteSources): Route {
  const entry = sources.registry.route(model);
  if (entry) return entry;
  const served = sources.fleet.candidates(model);
  if (served.length > 0) return { backends: served, reason: SERVED };
  // A model that belongs to a service which is down is not silently sent to a hosted provider instead.
  if (sources.fleet.knows(model)) return { error: noHealthyBackend(model), reason: NOT_HEALTHY };
  const rule = matchPrefix(model);
  const provider = rule && sources.providers.route(rule.provider);
  if (provider) {
    // An engine never heard from (first start, engine down) may serve the name: its prompts must not go to a provider on a guess.
    const unlisted = sources.fleet.awaitingModels();
    return unlisted ? { error: modelsNotYetKnown(model, unlisted.name), reason: AWAITING } : provider;
  }
  return { error: modelNotFound(model), reason: NO_MATCH };
}
