import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { applyEnvOverrides, asRecord, overrideAt, type EnvOverride } from './env-overrides.js';
import { envFlag, envNumber } from './env-values.js';
import type { ProviderName } from './providers.js';
import { ConfigSchema, type Config } from './schema.js';

export { ConfigError };

export const DEFAULT_CONFIG_FILE = './switchyard.yaml';

/** `${VAR}` or `${VAR:-default}`, with the name and the default captured. */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string of the YAML tree; as in the shell, an empty VAR takes the default. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_, name: string, fallback?: string) => (env[name] || fallback) ?? '');
  }
  if (Array.isArray(value)) return value.map((item) => expandEnv(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandEnv(item, env)]));
  }
  return value;
}

/** Variables that a `${VAR}` without a default at `path` of the YAML reads and that are unset: the empty value is their doing. */
function unsetReferences(raw: unknown, path: readonly PropertyKey[], env: NodeJS.ProcessEnv): string[] {
  const value = valueAt(raw, path);
  if (typeof value !== 'string') return [];
  return [...value.matchAll(ENV_REFERENCE)].filter(([, name, fallback]) => fallback === undefined && !env[name!]).map(([, name]) => name!);
}

function formatIssues(error: z.ZodError, raw: unknown, env: NodeJS.ProcessEnv, overrides: readonly EnvOverride[]): string {
  const line = (path: readonly PropertyKey[], message: string) => {
    const override = overrideAt(overrides, path);
    const unset = override ? [] : unsetReferences(raw, path, env);
    const from = override ? ` (from the environment variable ${override.env})` : unset.length > 0 ? ` (\${${unset.join('}, ${')}} not set)` : '';
    return `  ${path.join('.') || '(root)'}${from}: ${message}`;
  };
  // An unknown key (a typo, often) is named by its own path, not only by the record it sits in.
  return error.issues
    .flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => line([...issue.path, key], 'unknown key')) : [line(issue.path, issue.message)]))
    .join('\n');
}

const describeYaml = (value: unknown) => (Array.isArray(value) ? 'a list' : `a ${typeof value}`);

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, source = 'config'): Config {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(`invalid ${source}: the top level must be a mapping of keys (port:, services:, …), not ${describeYaml(raw)}`);
  }
  const tree = { ...asRecord(expandEnv(raw ?? {}, env)) };
  const overrides = applyEnvOverrides(tree, env);
  let result = ConfigSchema.safeParse(tree);
  if (!result.success && typeInterpolated(tree, raw, result.error)) result = ConfigSchema.safeParse(tree);
  if (!result.success) throw new ConfigError(`invalid ${source}:\n${formatIssues(result.error, raw, env, overrides)}`);
  rememberKeyVariables(raw, result.data.providers);
  return result.data;
}

/**
 * `port: ${PORT}` is text once expanded, as YAML read it: where the schema wants a number or a
 * flag, a value that came from `${…}` is read as one (decimal; 1/true/yes/on, 0/false/no/off), as
 * an environment variable overriding the key would be. Only there: `api_key: ${KEY}` stays text
 * even when the key is all digits. True when a value was retyped (the tree is to be checked again).
 */
function typeInterpolated(tree: Record<string, unknown>, raw: unknown, error: z.ZodError): boolean {
  let retyped = false;
  for (const issue of error.issues) {
    if (issue.code !== 'invalid_type' || (issue.expected !== 'number' && issue.expected !== 'boolean') || issue.path.length === 0) continue;
    const written = valueAt(raw, issue.path);
    if (typeof written !== 'string' || !written.includes('${')) continue;
    const parent = valueAt(tree, issue.path.slice(0, -1)) as Record<PropertyKey, unknown>;
    const key = issue.path.at(-1)!;
    const value = parent[key];
    if (typeof value !== 'string') continue;
    const typed = issue.expected === 'number' ? envNumber(value) : envFlag(value);
    if (typeof typed === 'string') continue;
    parent[key] = typed;
    retyped = true;
  }
  return retyped;
}

function valueAt(tree: unknown, path: readonly PropertyKey[]): unknown {
  let value = tree;
  for (const key of path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
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
  // Often a file truncated or not yet written; a router that takes every default says so with `{}`.
  if (raw === null || raw === undefined) throw new ConfigError(`config file ${path} is empty: write {} to take every default`);
  return { config: parseConfig(raw, env, `config file ${path}`), file: path };
}
