import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { applyEnvOverrides, asRecord, overrideAt, type EnvOverride } from './env-overrides.js';
import type { ProviderName } from './providers.js';
import { ConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_CONFIG_FILE = './switchyard.yaml';

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

function formatIssues(error: z.ZodError, overrides: readonly EnvOverride[] = []): string {
  return error.issues
    .map((issue) => {
      const override = overrideAt(overrides, issue.path);
      const from = override ? ` (from the environment variable ${override.env})` : '';
      return `  ${issue.path.join('.') || '(root)'}${from}: ${issue.message}`;
    })
    .join('\n');
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, source = 'config'): Config {
  const tree = { ...asRecord(expandEnv(raw ?? {}, env)) };
  const overrides = applyEnvOverrides(tree, env);
  const result = ConfigSchema.safeParse(tree);
  if (!result.success) throw new ConfigError(`invalid ${source}:\n${formatIssues(result.error, overrides)}`);
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
