import type { WireFormat } from '../config/providers.js';
import type { ProviderAdapter, TargetAdapter } from './adapter.js';
import { anthropicAdapter } from './anthropic/adapter.js';
import { geminiAdapter } from './gemini/adapter.js';
import { targetAdapter } from './target-adapter.js';
import { openAiCompatible } from './openai-compatible.js';

/** A target's settings that change how its wire format is spoken (YAML names). */
export interface WireSettings {
  /** Anthropic: the `max_tokens` sent when the client sets no limit. */
  default_max_tokens?: number;
}

/** The adapter of a target that names no wire format: engines, agents, registry entries. */
export const OPENAI_COMPATIBLE_TARGET: TargetAdapter = targetAdapter(openAiCompatible);

/** The adapter of a configured target speaking `name`. */
export const adapterFor = (name: WireFormat, settings: WireSettings = {}): TargetAdapter => targetAdapter(wireAdapter(name, settings));

/** The wire format's own adapter, which a provider may change (see providerAdapter) before it gets its Messages API and Responses API routes. */
export function wireAdapter(name: WireFormat, settings: WireSettings = {}): ProviderAdapter {
  switch (name) {
    case 'openai':
      return openAiCompatible;
    case 'anthropic':
      return anthropicAdapter(settings.default_max_tokens);
    case 'gemini':
      return geminiAdapter;
  }
}
