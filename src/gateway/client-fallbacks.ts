import { badRequest } from '../server/errors.js';
import { isPlausibleModelName, MODEL_NAME_RULE } from '../server/validate.js';
import { removeRouterField, type InferenceRequest } from './inference-request.js';

/** More would only multiply the attempts one request can make. */
const MAX_CLIENT_FALLBACKS = 8;

/**
 * LiteLLM proxy's client-side fallbacks: `"fallbacks": ["model-b", "model-c"]` in the body, tried
 * in order after the requested model's own chain fails, as its clients send them (`extra_body`).
 * Taken out of what goes upstream (a hosted API refuses the unknown field). Throws a 400 for
 * anything but a short list of model names.
 */
export function takeClientFallbacks(request: InferenceRequest): void {
  const field = request.body.fallbacks;
  if (field === undefined) return;
  removeRouterField(request, 'fallbacks');
  if (field === null) return;
  if (!Array.isArray(field) || field.length > MAX_CLIENT_FALLBACKS || !field.every((name) => typeof name === 'string' && name !== '' && isPlausibleModelName(name))) {
    throw badRequest(`Invalid 'fallbacks': expected a list of at most ${MAX_CLIENT_FALLBACKS} model names (${MODEL_NAME_RULE})`, 'fallbacks', 'invalid_value');
  }
  if (field.length > 0) request.fallbacks = field as string[];
}
