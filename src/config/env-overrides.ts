import { dirname } from 'node:path';
import { PROVIDERS } from './providers.js';
import { POLICY_ENV } from './policies-schema.js';
import { envList, envNumber } from './env-values.js';

/** An environment variable that overrides one config key. */
export interface EnvOverride {
  env: string;
  path: readonly string[];
  /** The variable's text as the key's value (a number, a list, a flag); taken as is when absent. `env`: for a value that another variable qualifies. */
  parse?: (value: string, env: NodeJS.ProcessEnv) => unknown;
}

/** Environment variables that override a config key, with the replaced routers' names. */
const ENV_OVERRIDES: readonly EnvOverride[] = [
  { env: 'PORT', path: ['port'], parse: envNumber },
  { env: 'HOST', path: ['host'] },
  { env: 'LOG_LEVEL', path: ['log_level'] },
  { env: 'REQUEST_TIMEOUT_S', path: ['request_timeout_s'], parse: envNumber },
  { env: 'ADMIN_TOKEN', path: ['admin_token'] },
  { env: 'CORS_ORIGINS', path: ['cors', 'origins'], parse: envList },
  { env: 'ALLOWED_HOSTS', path: ['allowed_hosts'], parse: envList },
  // The provider router's LOG_PATH named the file (default logs/router.log, the name Switchyard writes): its directory is the log
  // directory; a value ending in a slash (`logs/`) names that directory itself. LOG_DIR, after it, wins.
  { env: 'LOG_PATH', path: ['logging', 'dir'], parse: (value) => (value.endsWith('/') ? value.replace(/\/+$/, '') || '/' : dirname(value)) },
  { env: 'LOG_DIR', path: ['logging', 'dir'] },
  { env: 'ROUTER_LATENCY_WEIGHT', path: ['routing', 'latency_weight'], parse: envNumber },
  { env: 'ROUTER_COST_WEIGHT', path: ['routing', 'cost_weight'], parse: envNumber },
  { env: 'ROUTER_COST_THRESHOLD', path: ['routing', 'cost_threshold'], parse: envNumber },
  { env: 'HEALTH_CHECK_INTERVAL_S', path: ['health_check', 'interval_s'], parse: envNumber },
  { env: 'SQLITE_DB_PATH', path: ['database_path'] },
  { env: 'REGISTRATION_TOKEN', path: ['agents', 'registration_token'] },
  { env: 'AGENT_HEARTBEAT_TIMEOUT_S', path: ['agents', 'heartbeat_timeout_s'], parse: envNumber },
  { env: 'AGENT_FORGET_AFTER_S', path: ['agents', 'forget_after_s'], parse: envNumber },
  ...PROVIDERS.flatMap(({ name, baseUrlEnv, keyEnv }) => [
    { env: baseUrlEnv, path: ['providers', name, 'base_url'] },
    ...(keyEnv ? [{ env: keyEnv, path: ['providers', name, 'api_key'] }] : []),
  ]),
  ...POLICY_ENV,
];

export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Sets the overridden keys in `tree` (copying the records on each path); returns the overrides applied. */
export function applyEnvOverrides(tree: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverride[] {
  const applied: EnvOverride[] = [];
  for (const override of ENV_OVERRIDES) {
    const value = env[override.env];
    if (value === undefined || value === '') continue;
    let record = tree;
    for (const key of override.path.slice(0, -1)) record = record[key] = { ...asRecord(record[key]) };
    record[override.path.at(-1)!] = override.parse ? override.parse(value, env) : value;
    applied.push(override);
  }
  return applied;
}

/** The variable that set the key at `path`, if one did: a validation error must name it, not only the YAML key. */
export function overrideAt(applied: readonly EnvOverride[], path: readonly PropertyKey[]): EnvOverride | undefined {
  return applied.find((override) => override.path.every((key, i) => path[i] === key));
}
