import { PROVIDERS, providerDefinition, type ProviderName, type WireFormat } from '../config/providers.js';
import { withBody, type AnswerLimitParam, type ProviderAdapter, type TargetAdapter } from './adapter.js';
import { adapterFor, wireAdapter, type WireSettings } from './by-name.js';
import { targetAdapter } from './target-adapter.js';

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

/** OpenAI's reasoning models: o1, o3, o4-mini, gpt-5 and their sized and dated variants. */
const OPENAI_REASONING_MODELS = /^(?:o\d+|gpt-5)(?:[-.]|$)/;

/**
 * The models of a provider that refuse `max_tokens` on chat completions, taking the same limit as
 * `max_completion_tokens` (400 "Unsupported parameter: 'max_tokens'"): OpenAI's reasoning models.
 */
const MAX_TOKENS_REFUSED: Partial<Record<ProviderName, RegExp>> = {
  openai: OPENAI_REASONING_MODELS,
};

/**
 * The models of a provider that take `reasoning_effort` on chat completions, where its others
 * refuse it: OpenAI's reasoning models; xAI's, model by model (grok-3-mini, grok-4.3 and grok-4.5
 * take it; grok-4, its fast variants and grok-4.20, which reason without being asked, refuse it).
 */
const REASONING_EFFORT_TAKEN: Partial<Record<ProviderName, RegExp>> = {
  openai: OPENAI_REASONING_MODELS,
  grok: /^grok-(?:3-mini|4\.3|4\.5)(?:[-.]|$)/,
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
      return adapter.request(withBody(request, body), backend, upstreamModel);
    },
  };
}

/**
 * `adapter`, fitting a chat request's reasoning parameters to its model: to one that refuses
 * `max_tokens` (`maxTokensRefused`), `max_tokens` goes as `max_completion_tokens`, as LiteLLM sends
 * it (clients written for other models send `max_tokens`; a request that sets both is left as it
 * is, for the provider to judge); to one that does not take `reasoning_effort` (`effortTaken`),
 * that is dropped, as a parameter the provider does not accept is (the Messages API's translation
 * writes it for a client's `thinking`, which the model then thinks at its own default).
 */
function withReasoningParameters(adapter: ProviderAdapter, maxTokensRefused: RegExp | undefined, effortTaken: RegExp | undefined): ProviderAdapter {
  return {
    ...adapter,
    request(request, backend, upstreamModel) {
      const body = request.endpoint === 'chat' ? fittedBody(request.body, maxTokensRefused?.test(upstreamModel) ?? false, effortTaken?.test(upstreamModel) ?? true) : undefined;
      return adapter.request(body ? withBody(request, body) : request, backend, upstreamModel);
    },
  };
}

/** A chat body with its reasoning parameters fitted to its model; undefined when it fits as it is. */
function fittedBody(body: Record<string, unknown>, refusesMaxTokens: boolean, takesEffort: boolean): Record<string, unknown> | undefined {
  const renamesLimit = refusesMaxTokens && 'max_tokens' in body && !('max_completion_tokens' in body);
  const dropsEffort = !takesEffort && 'reasoning_effort' in body;
  if (!renamesLimit && !dropsEffort) return undefined;
  const fitted = { ...body };
  if (renamesLimit) {
    fitted.max_completion_tokens = fitted.max_tokens;
    delete fitted.max_tokens;
  }
  if (dropsEffort) delete fitted.reasoning_effort;
  return fitted;
}

/** The adapter for `provider`'s wire format, with its settings, dropping (or renaming) what the provider does not accept. */
export function providerAdapter(provider: ProviderName, settings?: WireSettings): TargetAdapter {
  let adapter = wireAdapter(providerDefinition(provider).wire, settings);
  const answerLimit = ANSWER_LIMITS[provider];
  if (answerLimit) adapter = { ...adapter, answerLimit };
  const [maxTokensRefused, effortTaken] = [MAX_TOKENS_REFUSED[provider], REASONING_EFFORT_TAKEN[provider]];
  if (maxTokensRefused || effortTaken) adapter = withReasoningParameters(adapter, maxTokensRefused, effortTaken);
  return targetAdapter(withoutParams(adapter, UNSUPPORTED_PARAMS[provider]));
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
