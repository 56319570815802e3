import { badRequest } from '../server/errors.js';
import { isPlausibleModelName, MODEL_NAME_RULE } from '../server/validate.js';
import { removeRouterField, type InferenceRequest } from './inference-request.js';

/** More would only multiply the attempts one request can make. */
const MAX_CLIENT_FALLBACKS = 8;

/**
 * LiteLLM proxy's client-side fallbacks: `"fallbacks": ["model-b", "model-c"]` in the body, tried
 * in order after the requested model's own chain fails, as its clients send them (`extra_body`).
 * The models a body names there (undefined for none); throws a 400 for anything but a short list
 * of model names.
 */
export function clientFallbacks(body: Record<string, unknown>): readonly string[] | undefined {
  const field = body.fallbacks;
  if (field === undefined || field === null) return undefined;
  if (!Array.isArray(field) || field.length > MAX_CLIENT_FALLBACKS || !field.every((name) => typeof name === 'string' && name !== '' && isPlausibleModelName(name))) {
    throw badRequest(`Invalid 'fallbacks': expected a list of at most ${MAX_CLIENT_FALLBACKS} model names (${MODEL_NAME_RULE})`, 'fallbacks', 'invalid_value');
  }
  return field.length > 0 ? (field as string[]) : undefined;
}

/** Moves the client's fallbacks (clientFallbacks) from the body to the request: a hosted API refuses the unknown field. */
export function takeClientFallbacks(request: InferenceRequest): void {
  if (request.body.fallbacks === undefined) return;
  const fallbacks = clientFallbacks(request.body);
  removeRouterField(request, 'fallbacks');
  if (fallbacks) request.fallbacks = fallbacks;
}

/** The models a request names, each of which a key limited to some models must allow: it reaches no other through a fallback it names. */
export const namedModels = (model: string, fallbacks: readonly string[] | undefined): readonly string[] => (fallbacks ? [model, ...fallbacks] : [model]);
