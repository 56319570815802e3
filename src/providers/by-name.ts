import type { WireFormat } from '../config/providers.js';
import type { ProviderAdapter } from './adapter.js';
import { openAiCompatible } from './openai-compatible.js';

/**
 * The adapter for each wire format. The Anthropic and Gemini translation adapters are registered
 * here; until they land, every format is sent as OpenAI-compatible.
 */
export function adapterFor(name: WireFormat): ProviderAdapter {
  switch (name) {
    case 'openai':
    case 'anthropic':
    case 'gemini':
      return openAiCompatible;
  }
}
