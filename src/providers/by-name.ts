import type { ProviderAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { openAiCompatible } from './openai-compatible.js';

export type ProviderName = 'openai' | 'anthropic' | 'gemini';

const ADAPTERS: Readonly<Record<ProviderName, ProviderAdapter>> = {
  openai: openAiCompatible,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};

/** The wire format a configured target speaks. */
export function adapterFor(name: ProviderName): ProviderAdapter {
  return ADAPTERS[name];
}
