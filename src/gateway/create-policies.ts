import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import { PolicyMetrics } from '../observability/policy-metrics.js';
import { createSharedState } from '../state/create-state.js';
import type { RoutingTable } from '../registry/routing-table.js';
import { ApiKeyStore } from '../store/api-keys.js';
import { CallerIdentifier } from './caller.js';
import { ModelResolver } from './model-resolver.js';
import { GatewayPolicies } from './policies.js';
import { RateLimitStage } from './rate-limit.js';
import { ResponseCacheStage } from './response-cache.js';

/** Builds the gateway policies from the config: shared state, key store (in the router's database), and the stages. */
export async function createPolicies(config: Config, routes: RoutingTable, metrics: Metrics, log: Logger): Promise<GatewayPolicies> {
  const { fleet, db } = routes;
  const cooldown = { failureThreshold: config.cooldown.failure_threshold, windowS: config.cooldown.window_s, cooldownS: config.cooldown.cooldown_s };
  const state = await createSharedState(
    {
      redis: config.redis,
      cooldown,
      cacheLimits: { maxEntries: config.cache.max_entries, maxBytes: config.cache.max_bytes },
      keptLimits: { ttlS: config.bridged_responses.ttl_s, maxBytes: config.bridged_responses.max_bytes },
    },
    log,
  );
  const keys = new ApiKeyStore(db);
  const resolver = new ModelResolver(routes.modelGroups(), routes);
  const policyMetrics = new PolicyMetrics(metrics.registry, fleet, state, metrics.activity);
  metrics.keepModelsNamed((model) => resolver.isNamed(model), policyMetrics);
  return new GatewayPolicies(
    state,
    resolver,
    policyMetrics,
    new CallerIdentifier(keys, state.revocations, { required: config.api_keys.required, cacheTtlS: config.api_keys.cache_ttl_s }),
    keys,
    new RateLimitStage({
      defaultRpm: config.rate_limits.requests_per_minute,
      models: config.rate_limits.models,
      defaultCompletionTokens: config.rate_limits.default_completion_tokens,
    }),
    new ResponseCacheStage({ enabled: config.cache.enabled, ttlS: config.cache.ttl_s, maxEntryBytes: config.cache.max_entry_bytes }),
    config.prices,
    log,
  );
}
