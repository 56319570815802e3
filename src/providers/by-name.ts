import type { WireFormat } from '../config/providers.js';
import type { ProviderAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { openAiCompatible } from './openai-compatible.js';

const ADAPTERS: Readonly<Record<WireFormat, ProviderAdapter>> = {
  openai: openAiCompatible,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};

/** The wire format a configured target speaks. */
export function adapterFor(name: WireFormat): ProviderAdapter {
  return ADAPTERS[name];
}
