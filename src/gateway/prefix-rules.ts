import type { ProviderName } from '../config/providers.js';

/** The replaced router's prefix rules, first match wins: a model nobody serves goes to a provider by its name. */
export const PREFIX_RULES: ReadonlyArray<{ prefix: string; provider: ProviderName }> = [
  { prefix: 'local', provider: 'local' },
  { prefix: 'gpt-', provider: 'openai' },
  { prefix: 'o1', provider: 'openai' },
  { prefix: 'o3', provider: 'openai' },
  { prefix: 'o4', provider: 'openai' },
  { prefix: 'text-embedding-', provider: 'openai' },
  { prefix: 'llmd-', provider: 'llm-d' },
  { prefix: 'claude', provider: 'anthropic' },
  { prefix: 'google', provider: 'google' },
  { prefix: 'gemini', provider: 'google' },
  { prefix: 'openrouter', provider: 'openrouter' },
  { prefix: 'grok', provider: 'grok' },
  { prefix: 'venice', provider: 'venice' },
];

/** Prefixes that only pick the provider: the upstream is sent the rest of the name ("openrouter/meta/llama-3" → "meta/llama-3"). */
export const ROUTING_HINTS: Partial<Record<ProviderName, string>> = { openrouter: 'openrouter/', google: 'google/' };

export function matchPrefix(model: string): { prefix: string; provider: ProviderName } | undefined {
  return PREFIX_RULES.find((rule) => model.startsWith(rule.prefix));
}

/** The provider's own name for `model`, without its routing hint. */
export function withoutRoutingHint(provider: ProviderName, model: string): string {
  const hint = ROUTING_HINTS[provider];
  if (!hint || !model.startsWith(hint)) return model;
  const rest = model.slice(hint.length);
  // OpenRouter names its own models "openrouter/<name>" ("openrouter/auto"), every other one "<vendor>/<model>".
  return provider === 'openrouter' && !rest.includes('/') ? model : rest;
}
