import { z } from 'zod';
import { PROVIDER_NAMES } from './providers.js';
import { CACHE_AWARE_DEFAULTS } from '../routing/cache-aware.js';
import { POLICY_NAMES } from '../routing/registry.js';
import { policyConfigShape, retryConfigShape } from './policies-schema.js';
import { timerRange } from './timer-range.js';
import { isHttpUrl } from '../registry/model-entry.js';

const httpUrl = z.string().refine(isHttpUrl, 'must be an http:// or https:// URL');

/** Anthropic's `max_tokens` when a client sets no limit (Anthropic requires one). */
const defaultMaxTokens = z
  .number({ error: 'must be a whole number of tokens, e.g. 32000' })
  .int({ error: 'must be a whole number of tokens, e.g. 32000' })
  .positive({ error: 'must be a positive number of tokens' });
const ANTHROPIC_ONLY = 'default_max_tokens applies only to Anthropic (the one API that requires max_tokens)';

/** An `allowed_hosts` entry: a DNS name as a Host header carries it, without port, or `*.` before one for its subdomains, or `*`. */
const allowedHost = z
  .string()
  .regex(/^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?)$/i, { error: (issue) => `must be a host name without scheme or port (llm.example.com), *.example.com for its subdomains, or * for any (not "${String(issue.input)}")` });

const routingPolicyName = z.string().refine((name) => POLICY_NAMES.includes(name), { error: (issue) => `unknown routing policy "${String(issue.input)}" (known: ${POLICY_NAMES.join(', ')})` });

export const ServiceSchema = z
  .object({
    name: z.string().min(1),
    url: httpUrl,
    /** When absent, the service's models are discovered from its `/v1/models`. */
    models: z.array(z.string().min(1)).optional(),
    /** Sent as `Authorization: Bearer` to this service; the client's own header never is. */
    api_key: z.string().optional(),
    health_path: z.string().startsWith('/').default('/health'),
    /** The wire format the service speaks: OpenAI-compatible, or translated to Anthropic's or Gemini's API. */
    provider: z.enum(['openai', 'anthropic', 'gemini']).default('openai'),
    default_max_tokens: defaultMaxTokens.optional(),
  })
  .strict()
  .refine((service) => service.provider === 'openai' || service.models !== undefined, {
    // hosted APIs are never probed (a probe would cost money), so their models cannot be discovered
    message: 'a service with provider anthropic or gemini must list its models',
    path: ['models'],
  })
  .refine((service) => service.default_max_tokens === undefined || service.provider === 'anthropic', {
    message: `${ANTHROPIC_ONLY}: set it on a service with provider: anthropic`,
    path: ['default_max_tokens'],
  });

const ProviderSettingsSchema = z
  .object({
    /** Empty (as an unset `${VAR}` expands) means the provider's default. */
    base_url: z.union([httpUrl, z.literal('')]).optional(),
    api_key: z.string().optional(),
    default_max_tokens: defaultMaxTokens.optional(),
  })
  .strict()
  // Filled by the loader, never from the YAML: the variable a `${VAR}` api_key reads, for the message when it is unset.
  .transform((settings): typeof settings & { api_key_variable?: string } => settings);

export const LoggingSchema = z
  .object({
    /** Lines go to stdout and to `<dir>/router.log`, rotated daily; null disables the file. */
    dir: z.string().min(1).nullable().default('logs'),
    retention_days: z.number().int().positive().default(7),
    /** Prompt and completion text are redacted from log lines unless this is true. */
    log_prompts: z.boolean().default(false),
  })
  .strict();

export const RequestLogSchema = z
  .object({
    enabled: z.boolean().default(true),
    retention_days: z.number().positive().default(7),
    max_rows: z.number().int().positive().default(1_000_000),
    flush_interval_ms: timerRange(z.number().int().positive(), 1).default(1000),
    batch_rows: z.number().int().positive().default(64),
  })
  .strict();

export const ConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8000),
    // Blank, it failed only at listen, as an unknown host name that named no setting.
    host: z.string().refine((host) => host.trim() !== '', 'must be a host name or address').default('0.0.0.0'),
    /** In any case, as LOG_LEVEL always was. */
    log_level: z.string().toLowerCase().pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
    request_timeout_s: timerRange(z.number().positive(), 1000).default(300),
    max_body_bytes: z.number().int().positive().default(16 * 1024 * 1024),
    /** A non-streamed answer is held whole before it is relayed: one larger is a 502, not the router's memory. */
    max_response_bytes: z.number().int().positive().default(128 * 1024 * 1024),
    shutdown_grace_s: timerRange(z.number().nonnegative(), 1000).default(30),
    /** Browser origins allowed to call the router (`*` for any); empty: no CORS headers, preflights get 404. */
    cors: z
      .object({ origins: z.array(z.string().min(1), { error: 'must be a list of origins (CORS_ORIGINS: comma-separated, at least one; unset for none)' }).default([]) })
      .strict()
      .prefault({}),
    /** Host names (not IP literals, single labels nor private names, always allowed) through which the router's own pages may call it: `*.example.com`, or `*` for any. */
    allowed_hosts: z.array(allowedHost, { error: 'must be a list of host names (ALLOWED_HOSTS: comma-separated, at least one; unset for none)' }).default([]),
    health_check: z
      .object({
        interval_s: timerRange(z.number().positive(), 1000).default(30),
        /** Unhealthy services are probed this often, so one that comes back serves again within seconds. */
        unhealthy_interval_s: timerRange(z.number().positive(), 1000).default(5),
        timeout_s: timerRange(z.number().positive(), 1000).default(5),
        /** Consecutive request failures that eject a service until a probe passes again. */
        failure_threshold: z.number().int().positive().default(3),
      })
      .strict()
      .default({ interval_s: 30, unhealthy_interval_s: 5, timeout_s: 5, failure_threshold: 3 }),
    retry: z.object(retryConfigShape).strict().prefault({}),
    routing: z
      .object({
        policy: routingPolicyName.default('least-outstanding'),
        /** A model's own policy, overriding `policy` for that model: `{ "llama-3-8b": "cache-aware" }`. */
        models: z.record(z.string(), routingPolicyName).default({}),
        /** Header carrying the session key for the `session` policy (else `prompt_cache_key`, else `user`). */
        session_header: z.string().min(1).default('x-session-id'),
        /** ROUTER_LATENCY_WEIGHT: queued requests one millisecond of typical TTFT is worth (latency), or weight of TTFT (cost). */
        latency_weight: z.number().nonnegative().default(1),
        /** ROUTER_COST_WEIGHT */
        cost_weight: z.number().nonnegative().default(1),
        /** ROUTER_COST_THRESHOLD: estimated prompt tokens above which `cost` keeps a request on self-hosted backends. */
        cost_threshold: z.number().nonnegative().default(1000),
        cache_aware: z
          .object({
            /** UTF-8 bytes per block, hashed as whole 4-byte words. */
            block_chars: z
              .number()
              .int()
              .positive()
              .multipleOf(4, { error: 'must be a multiple of 4 (blocks are hashed as whole 4-byte words)' })
              .default(CACHE_AWARE_DEFAULTS.blockChars),
            match_threshold: z.number().min(0).max(1).default(CACHE_AWARE_DEFAULTS.matchThreshold),
            balance_abs: z.number().nonnegative().default(CACHE_AWARE_DEFAULTS.balanceAbs),
            balance_rel: z.number().min(1).default(CACHE_AWARE_DEFAULTS.balanceRel),
            max_blocks_per_replica: z.number().int().positive().default(CACHE_AWARE_DEFAULTS.maxBlocksPerReplica),
          })
          .strict()
          .prefault({}),
        /** Scrape vLLM/SGLang-style `/metrics` of self-hosted services to correct load estimates. */
        engine_metrics: z
          .object({ enabled: z.boolean().default(true), interval_s: timerRange(z.number().positive(), 1000).default(1) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    services: z.array(ServiceSchema).default([]),
    /** The embedded SQLite store: model registry, agents, request log; env SQLITE_DB_PATH. */
    database_path: z.string().min(1).default('data/models.db'),
    agents: z
      .object({
        /** An agent that has not sent a heartbeat for this long stops receiving traffic (3 missed beats of 10 s). */
        heartbeat_timeout_s: z.number().positive().default(30),
        /** An agent silent this long is forgotten (registry, SQLite, shared state), as if it had been retired. */
        forget_after_s: z.number().positive().default(3600),
        /** Registrations of new names past this many (across the instances sharing Redis) are refused (403 too_many_agents). */
        max_agents: z.number().int().positive().default(1000),
        /** When set, /register and /heartbeat require `Authorization: Bearer <token>`; unset, they are open only on an open router. */
        registration_token: z.string().optional(),
      })
      .strict()
      .refine((agents) => agents.forget_after_s > agents.heartbeat_timeout_s, {
        path: ['forget_after_s'],
        message: 'must be greater than agents.heartbeat_timeout_s (an agent is marked unhealthy before it is forgotten)',
      })
      .prefault({}),
    providers: z.partialRecord(z.enum(PROVIDER_NAMES as [string, ...string[]]), ProviderSettingsSchema).default({}),
    /** When set, /admin/*, /ui and /metrics need `Authorization: Bearer <token>` (or `?token=` for /ui); env ADMIN_TOKEN. */
    admin_token: z.string().min(1).optional(),
    logging: LoggingSchema.default(LoggingSchema.parse({})),
    request_log: RequestLogSchema.default(RequestLogSchema.parse({})),
    ...policyConfigShape,
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.services.forEach((service, index) => {
      if (seen.has(service.name)) {
        ctx.addIssue({ code: 'custom', path: ['services', index, 'name'], message: `duplicate service name "${service.name}"` });
      }
      seen.add(service.name);
    });
    for (const [name, settings] of Object.entries(config.providers)) {
      if (name !== 'anthropic' && settings?.default_max_tokens !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['providers', name, 'default_max_tokens'], message: `${ANTHROPIC_ONLY}: set it under providers.anthropic` });
      }
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
