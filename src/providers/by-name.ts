import type { WireFormat } from '../config/providers.js';
import type { ProviderAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { openAiCompatible } from './openai-compatible.js';

/** A target's settings that change how its wire format is spoken (YAML names). */
export interface WireSettings {
  /** Anthropic: the `max_tokens` sent when the client sets no limit. */
  default_max_tokens?: number;
}

/** The wire format a configured target speaks. */
export function adapterFor(name: WireFormat, settings: WireSettings = {}): ProviderAdapter {
  switch (name) {
    case 'openai':
      return openAiCompatible;
    case 'anthropic':
      return anthropicAdapter(settings.default_max_tokens);
    case 'gemini':
      return geminiAdapter;
  }
}
