import { providerDefinition, type ProviderName } from '../config/providers.js';
import type { ProviderAdapter } from './adapter.js';
import { adapterFor, type WireSettings } from './by-name.js';

/**
 * Request parameters each provider does not accept: they are removed before sending rather than
 * left to fail the request. Self-hosted engines (vLLM, llm-d, local agents) accept them all.
 */
export const UNSUPPORTED_PARAMS: Readonly<Record<ProviderName, readonly string[]>> = {
  openai: ['top_k', 'repetition_penalty', 'min_p', 'top_a'],
  anthropic: ['repetition_penalty', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'min_p', 'top_a'],
  google: ['repetition_penalty', 'logit_bias', 'min_p', 'top_a'],
  openrouter: [],
  grok: ['top_k', 'repetition_penalty', 'min_p', 'top_a'],
  venice: ['top_a'],
  'llm-d': [],
  local: [],
};

/** `adapter`, with `params` removed from every request that carries any of them. */
export function withoutParams(adapter: ProviderAdapter, params: readonly string[]): ProviderAdapter {
  if (params.length === 0) return adapter;
  return {
    ...adapter,
    request(request, backend, upstreamModel) {
      if (!params.some((param) => param in request.body)) return adapter.request(request, backend, upstreamModel);
      const body = { ...request.body };
      for (const param of params) delete body[param];
      return adapter.request({ ...request, body, raw: Buffer.from(JSON.stringify(body)) }, backend, upstreamModel);
    },
  };
}

/** The adapter for `provider`'s wire format, with its settings, dropping what the provider does not accept. */
export function providerAdapter(provider: ProviderName, settings?: WireSettings): ProviderAdapter {
  return withoutParams(adapterFor(providerDefinition(provider).wire, settings), UNSUPPORTED_PARAMS[provider]);
}
