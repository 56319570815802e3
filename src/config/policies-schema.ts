import { z } from 'zod';
import { ConfigError } from './config-error.js';
import type { EnvOverride } from './env-overrides.js';
import { envFlag, envNumber } from './env-values.js';
import { DEFAULT_KEPT_RESPONSE_LIMITS } from '../state/memory-state.js';
import { isRedisUrl } from '../state/redis-connection.js';
import { timerRange } from './timer-range.js';

/** Why a request may move on to another target (`retry.on`) or another model (`fallback.on`). */
export const FAILURE_TRIGGERS = ['connection', 'timeout', 'rate_limit', 'server_error', 'context_window', 'content_policy'] as const;
export type FailureTrigger = (typeof FAILURE_TRIGGERS)[number];

const limits = z.object({ rpm: z.number().int().positive().optional(), tpm: z.number().int().positive().optional() }).strict();

const target = z
  .object({
    /** A model served by the fleet (a service's, an agent's, a registered or provider model). */
    model: z.string().min(1),
    /** Only this service's replicas of the model. */
    service: z.string().min(1).optional(),
    weight: z.number().positive().default(1),
  })
  .strict();

/** Config keys of the gateway policies, spread into the root config schema. */
export const policyConfigShape = {
  redis: z
    .object({
      url: z.string().transform(withRedisScheme).refine(isRedisUrl, 'must be a redis:// or rediss:// URL with a host and at most a database number as its path (redis://host:6379, redis://:password@host:6379/0), or the absolute path of a Unix socket'),
      key_prefix: z.string().default('switchyard:'),
      command_timeout_ms: timerRange(z.number().int().positive(), 1).default(250),
    })
    .strict()
    .optional(),
  api_keys: z
    .object({
      /** Require a key even before the first one is created (REQUIRE_API_KEY). */
      required: z.boolean().default(false),
      /** How long a key's record is trusted before it is read again (revocations arrive at once regardless). */
      cache_ttl_s: z.number().positive().default(5),
    })
    .strict()
    .prefault({}),
  rate_limits: z
    .object({
      /** Default requests per minute per caller (key, or client address when open): RATE_LIMIT_REQUESTS. */
      requests_per_minute: z.number().int().positive().optional(),
      /** Tokens reserved for the answer when the request sets no max_tokens. */
      default_completion_tokens: z.number().int().nonnegative().default(256),
      models: z.record(z.string(), limits).default({}),
    })
    .strict()
    .prefault({}),
  cache: z
    .object({
      enabled: z.boolean().default(true),
      ttl_s: z.number().positive().default(3600),
      /** Entries kept by the cache (in memory, or in Redis for all instances). */
      max_entries: z.number().int().positive().default(10_000),
      /** Bytes the cache holds in all (the oldest go first): of the answer bodies (UTF-8) in memory, of the stored JSON values in Redis. */
      max_bytes: z.number().int().positive().default(256 * 1024 * 1024),
      /** Larger answers are relayed but not cached. */
      max_entry_bytes: z.number().int().positive().default(1024 * 1024),
    })
    .strict()
    .prefault({}),
  /** Responses the router answers through its chat bridge (for Anthropic and Gemini targets) and keeps itself, for `previous_response_id` and the calls on a stored response. */
  bridged_responses: z
    .object({
      ttl_s: z.number().positive().default(DEFAULT_KEPT_RESPONSE_LIMITS.ttlS),
      /** Bytes of their JSON in all (in memory, or in Redis for all instances): the oldest go first, and one larger is not kept. */
      max_bytes: z.number().int().positive().default(DEFAULT_KEPT_RESPONSE_LIMITS.maxBytes),
    })
    .strict()
    .prefault({}),
  model_groups: z
    .record(
      z.string(),
      z
        .object({
          /** Where the name routes, by weight; absent means the fleet's model of that name. */
          targets: z.array(target).min(1).optional(),
          /** Models tried in order when every target failed for a `fallback.on` reason. */
          fallbacks: z.array(z.string().min(1)).default([]),
        })
        .strict(),
    )
    .default({}),
  fallback: z.object({ on: z.array(z.enum(FAILURE_TRIGGERS)).default([...FAILURE_TRIGGERS]) }).strict().prefault({}),
  cooldown: z
    .object({
      failure_threshold: z.number().int().positive().default(5),
      window_s: z.number().positive().default(60),
      cooldown_s: z.number().positive().default(30),
    })
    .strict()
    .prefault({}),
  /** USD per million tokens, for spend and budgets. */
  prices: z
    .record(z.string(), z.object({ input_per_million: z.number().nonnegative(), output_per_million: z.number().nonnegative() }).strict())
    .default({}),
};

export const retryConfigShape = {
  /** Attempts per model (across its replicas and targets) before falling back. */
  max_attempts: z.number().int().positive().default(3),
  on: z.array(z.enum(FAILURE_TRIGGERS)).default(['connection', 'timeout', 'rate_limit', 'server_error']),
  backoff_base_ms: timerRange(z.number().nonnegative(), 1).default(100),
  backoff_max_ms: timerRange(z.number().nonnegative(), 1).default(2000),
  /** Total time one request may spend waiting between attempts; each wait is one timer, so it is bounded like one. */
  max_wait_s: timerRange(z.number().nonnegative(), 1000).default(10),
  /** Time to the response headers after which an attempt counts as timed out; unset: only the request deadline. */
  attempt_timeout_s: timerRange(z.number().positive(), 1000).optional(),
};

/**
 * `host:port` as `redis://host:port`: the form LiteLLM's and many other deployments write, which
 * ioredis reads the same way only by a fallback its source means to drop.
 */
function withRedisScheme(url: string): string {
  return /^[\w.-]+:\d+$/.test(url) ? `redis://${url}` : url;
}

/** LiteLLM's REDIS_HOST with its REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD and REDIS_SSL, as one URL. */
function redisUrlOfParts(host: string, env: NodeJS.ProcessEnv): string {
  const credentials = env.REDIS_PASSWORD ? `${encodeURIComponent(env.REDIS_USERNAME ?? '')}:${encodeURIComponent(env.REDIS_PASSWORD)}@` : '';
  const tls = env.REDIS_SSL ? envFlag(env.REDIS_SSL) : false;
  // Read as false, a mistyped flag would connect without TLS and say nothing.
  if (typeof tls === 'string') throw new ConfigError(`invalid environment:\n  redis.url (from the environment variable REDIS_SSL): expected a flag (true/false, 1/0, yes/no, on/off), got '${tls}'`);
  const scheme = tls ? 'rediss' : 'redis';
  return `${scheme}://${credentials}${host}:${env.REDIS_PORT || '6379'}`;
}

/** Environment variables of the policies, with the replaced router's names. */
export const POLICY_ENV: readonly EnvOverride[] = [
  // LiteLLM's deployments name the server in parts; REDIS_URL, after them, wins.
  { env: 'REDIS_HOST', path: ['redis', 'url'], parse: redisUrlOfParts },
  { env: 'REDIS_URL', path: ['redis', 'url'] },
  { env: 'REQUIRE_API_KEY', path: ['api_keys', 'required'], parse: envFlag },
  { env: 'RATE_LIMIT_REQUESTS', path: ['rate_limits', 'requests_per_minute'], parse: requestsPerMinute },
  // The provider router's response cache lifetime, in seconds.
  { env: 'CACHE_TTL', path: ['cache', 'ttl_s'], parse: envNumber },
];

/**
 * The provider router allowed RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW seconds (default 60):
 * with another window, the same rate per minute (windows here are a minute long).
 */
function requestsPerMinute(value: string, env: NodeJS.ProcessEnv): number | string {
  const requests = envNumber(value);
  if (typeof requests === 'string' || !env.RATE_LIMIT_WINDOW) return requests;
  // Ignored, "1h" or "0x3c" would leave the limit per minute (60 times looser for an hour) without a word.
  const windowS = envNumber(env.RATE_LIMIT_WINDOW);
  if (typeof windowS === 'string' || !(windowS > 0)) {
    throw new ConfigError(`invalid environment variable RATE_LIMIT_WINDOW: must be a positive number of seconds, the window RATE_LIMIT_REQUESTS counts in (not "${env.RATE_LIMIT_WINDOW}")`);
  }
  return Math.max(1, Math.round((requests * 60) / windowS));
}
