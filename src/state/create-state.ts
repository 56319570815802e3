import type { Logger } from 'pino';
import { createMemoryState, type CacheLimits } from './memory-state.js';
import type { CooldownOptions, KeptResponseLimits, SharedState } from './shared-state.js';

export interface StateConfig {
  redis?: { url: string; key_prefix: string; command_timeout_ms: number };
  cooldown: CooldownOptions;
  cacheLimits: CacheLimits;
  keptLimits: KeptResponseLimits;
}

/**
 * Redis when configured (shared across instances), else this process's memory. The Redis client
 * is loaded only when used: it is a quarter of the router's resident memory otherwise.
 */
export async function createSharedState(config: StateConfig, log: Logger): Promise<SharedState> {
  if (!config.redis) return createMemoryState(config.cooldown, config.cacheLimits, config.keptLimits);
  const { RedisState } = await import('./redis-state.js');
  return new RedisState(
    { url: config.redis.url, keyPrefix: config.redis.key_prefix, commandTimeoutMs: config.redis.command_timeout_ms, cooldown: config.cooldown, cacheLimits: config.cacheLimits, keptLimits: config.keptLimits },
    log,
  );
}
