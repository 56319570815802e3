import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PROVIDERS, type ProviderName } from './providers.js';
import { POLICY_ENV } from './policies-schema.js';
import { ConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_CONFIG_FILE = './switchyard.yaml';

/** Environment variables that override a config key, with the replaced routers' names. */
const ENV_OVERRIDES: ReadonlyArray<[string, (raw: Record<string, unknown>, value: string) => void]> = [
  ['PORT', (raw, v) => (raw.port = Number(v))],
  ['HOST', (raw, v) => (raw.host = v)],
  ['LOG_LEVEL', (raw, v) => (raw.log_level = v.toLowerCase())],
  ['REQUEST_TIMEOUT_S', (raw, v) => (raw.request_timeout_s = Number(v))],
  ['ADMIN_TOKEN', (raw, v) => (raw.admin_token = v)],
  ['CORS_ORIGINS', (raw, v) => (raw.cors = { ...asRecord(raw.cors), origins: v.split(',').map((origin) => origin.trim()).filter(Boolean) })],
  ['LOG_DIR', (raw, v) => (raw.logging = { ...asRecord(raw.logging), dir: v })],
  ['ROUTER_LATENCY_WEIGHT', (raw, v) => (raw.routing = { ...asRecord(raw.routing), latency_weight: Number(v) })],
  ['ROUTER_COST_WEIGHT', (raw, v) => (raw.routing = { ...asRecord(raw.routing), cost_weight: Number(v) })],
  ['ROUTER_COST_THRESHOLD', (raw, v) => (raw.routing = { ...asRecord(raw.routing), cost_threshold: Number(v) })],
  ['HEALTH_CHECK_INTERVAL_S', (raw, v) => (raw.health_check = { ...asRecord(raw.health_check), interval_s: Number(v) })],
  ['SQLITE_DB_PATH', (raw, v) => (raw.database_path = v)],
  ['REGISTRATION_TOKEN', (raw, v) => (raw.agents = { ...asRecord(raw.agents), registration_token: v })],
  ['AGENT_HEARTBEAT_TIMEOUT_S', (raw, v) => (raw.agents = { ...asRecord(raw.agents), heartbeat_timeout_s: Number(v) })],
  ['AGENT_FORGET_AFTER_S', (raw, v) => (raw.agents = { ...asRecord(raw.agents), forget_after_s: Number(v) })],
  ...PROVIDERS.flatMap(({ name, baseUrlEnv, keyEnv }) => [
    providerOverride(baseUrlEnv, name, 'base_url'),
    ...(keyEnv ? [providerOverride(keyEnv, name, 'api_key')] : []),
  ]),
  ...POLICY_ENV,
];

function providerOverride(env: string, provider: string, key: 'base_url' | 'api_key'): [string, (raw: Record<string, unknown>, value: string) => void] {
  return [
    env,
    (raw, v) => {
      const providers = asRecord(raw.providers);
      raw.providers = { ...providers, [provider]: { ...asRecord(providers[provider]), [key]: v } };
    },
  ];
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `${VAR}` or `${VAR:-default}`, with the name and the default captured. */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string of the YAML tree. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_, name: string, fallback?: string) => env[name] ?? fallback ?? '');
  }
  if (Array.isArray(value)) return value.map((item) => expandEnv(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandEnv(item, env)]));
  }
  return value;
}

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, source = 'config'): Config {
  const tree = { ...asRecord(expandEnv(raw ?? {}, env)) };
  for (const [name, apply] of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(tree, value);
  }
  const result = ConfigSchema.safeParse(tree);
  if (!result.success) throw new ConfigError(`invalid ${source}:\n${formatIssues(result.error)}`);
  rememberKeyVariables(raw, result.data.providers);
  return result.data;
}

/**
 * A provider whose YAML key is `${GROQ_KEY}` reads GROQ_KEY: a missing key must name it, not the
 * provider's default variable. Read before expansion, which leaves no trace of the name.
 */
function rememberKeyVariables(raw: unknown, providers: Config['providers']): void {
  for (const [name, settings] of Object.entries(asRecord(asRecord(raw).providers))) {
    const apiKey = asRecord(settings).api_key;
    const variable = typeof apiKey === 'string' ? apiKey.matchAll(ENV_REFERENCE).next().value?.[1] : undefined;
    if (variable) providers[name as ProviderName]!.api_key_variable = variable;
  }
}

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or undefined when no file exists and the demo fleet should run. */
  file: string | undefined;
}

export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (path === undefined) return { config: parseConfig({}, env), file: undefined };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message}`);
  }
  return { config: parseConfig(raw, env, `config file ${path}`), file: path };
}
