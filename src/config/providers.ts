/**
 * The hosted and self-hosted providers a model name can route to, with the environment names of
 * the router Switchyard replaces (so its users switch without renaming anything).
 */
export type ProviderName = 'openai' | 'anthropic' | 'google' | 'openrouter' | 'grok' | 'venice' | 'llm-d' | 'local';

/** The wire format a provider speaks; everything but Anthropic and Gemini speaks OpenAI's. */
export type WireFormat = 'openai' | 'anthropic' | 'gemini';

export interface ProviderDefinition {
  name: ProviderName;
  wire: WireFormat;
  baseUrlEnv: string;
  /** Absent for providers that need no key (self-hosted). */
  keyEnv?: string;
  /** Absent when the provider exists only once its base URL is configured. */
  defaultBaseUrl?: string;
  /**
   * The API path the replaced router appended to this provider's base URL, where it is not `/v1`
   * (which every request path gets anyway when the base URL does not end in it).
   */
  originApiPath?: string;
}

export const PROVIDERS: readonly ProviderDefinition[] = [
  { name: 'openai', wire: 'openai', baseUrlEnv: 'OPENAI_BASE_URL', keyEnv: 'EXTERNAL_OPENAI_KEY', defaultBaseUrl: 'https://api.openai.com/v1' },
  { name: 'anthropic', wire: 'anthropic', baseUrlEnv: 'ANTHROPIC_BASE_URL', keyEnv: 'EXTERNAL_ANTHROPIC_KEY', defaultBaseUrl: 'https://api.anthropic.com' },
  { name: 'google', wire: 'gemini', baseUrlEnv: 'GOOGLE_BASE_URL', keyEnv: 'EXTERNAL_GOOGLE_KEY', defaultBaseUrl: 'https://generativelanguage.googleapis.com' },
  { name: 'openrouter', wire: 'openai', baseUrlEnv: 'OPENROUTER_BASE_URL', keyEnv: 'EXTERNAL_OPENROUTER_KEY', defaultBaseUrl: 'https://openrouter.ai/api/v1', originApiPath: '/api/v1' },
  { name: 'grok', wire: 'openai', baseUrlEnv: 'GROK_BASE_URL', keyEnv: 'EXTERNAL_GROK_KEY', defaultBaseUrl: 'https://api.x.ai/v1', originApiPath: '/openai/v1' },
  { name: 'venice', wire: 'openai', baseUrlEnv: 'VENICE_BASE_URL', keyEnv: 'EXTERNAL_VENICE_KEY', defaultBaseUrl: 'https://api.venice.ai/api/v1' },
  { name: 'llm-d', wire: 'openai', baseUrlEnv: 'LLMD_ENDPOINT' },
  { name: 'local', wire: 'openai', baseUrlEnv: 'LOCAL_AGENT_URL', defaultBaseUrl: 'http://localhost:5000' },
];

export const PROVIDER_NAMES = PROVIDERS.map((p) => p.name);

export function providerDefinition(name: ProviderName): ProviderDefinition {
  return PROVIDERS.find((p) => p.name === name)!;
}

/** Where and how to reach a provider, from the resolved config. */
export interface ProviderAccess {
  /** Undefined when the provider has no default URL and none is configured. */
  baseUrl: string | undefined;
  apiKey: string | undefined;
  /** The variable to set when the provider needs a key and has none: the one the YAML's `${VAR}` names, else the default. */
  missingKey: string | undefined;
}

export function providerAccess(settings: Partial<Record<ProviderName, { base_url?: string; api_key?: string; api_key_variable?: string }>>, name: ProviderName): ProviderAccess {
  const definition = providerDefinition(name);
  const configured = settings[name];
  const apiKey = configured?.api_key || undefined;
  return {
    baseUrl: configured?.base_url ? providerBaseUrl(name, configured.base_url) : definition.defaultBaseUrl,
    apiKey,
    missingKey: definition.keyEnv && !apiKey ? (configured?.api_key_variable ?? definition.keyEnv) : undefined,
  };
}

/**
 * The replaced router took `OPENROUTER_BASE_URL=https://openrouter.ai` and `GROK_BASE_URL=https://api.groq.com`
 * as origins and appended the provider's API path (`/api/v1`, Groq's `/openai/v1`), so its users'
 * `.env` files hold bare origins: such a URL still means that API root. A URL with a path is the API
 * root itself (`https://api.x.ai/v1`).
 */
export function providerBaseUrl(name: ProviderName, url: string): string {
  const { originApiPath } = providerDefinition(name);
  if (originApiPath === undefined) return url;
  const parsed = new URL(url);
  return parsed.pathname === '/' && parsed.search === '' ? parsed.origin + originApiPath : url;
}
