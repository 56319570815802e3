import { PROVIDERS, providerDefinition, type ProviderName, type WireFormat } from '../config/providers.js';
import type { AnswerLimitParam, ProviderAdapter, TargetAdapter } from './adapter.js';
import { adapterFor, wireAdapter, type WireSettings } from './by-name.js';
import { withMessagesRoute } from './messages/adapter.js';

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

/** Providers that limit an answer's length by another parameter than `max_tokens` (see ProviderAdapter.answerLimit). */
const ANSWER_LIMITS: Partial<Record<ProviderName, AnswerLimitParam>> = {
  openai: 'max_completion_tokens',
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
export function providerAdapter(provider: ProviderName, settings?: WireSettings): TargetAdapter {
  const adapter = wireAdapter(providerDefinition(provider).wire, settings);
  const answerLimit = ANSWER_LIMITS[provider];
  return withMessagesRoute(withoutParams(answerLimit ? { ...adapter, answerLimit } : adapter, UNSUPPORTED_PARAMS[provider]));
}

/**
 * A configured service's adapter. A service at a hosted provider's own address speaking its wire
 * format (`https://api.openai.com/v1`, provider `openai`) is that provider, and spoken to as such.
 */
export function serviceAdapter(service: { url: string; provider: WireFormat } & WireSettings): TargetAdapter {
  const origin = new URL(service.url).origin;
  const hosted = PROVIDERS.find(({ wire, keyEnv, defaultBaseUrl }) => wire === service.provider && keyEnv !== undefined && defaultBaseUrl !== undefined && new URL(defaultBaseUrl).origin === origin);
  return hosted ? providerAdapter(hosted.name, service) : adapterFor(service.provider, service);
}
