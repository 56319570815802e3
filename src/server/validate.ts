import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from './errors.js';
import { ENDPOINTS, type Endpoint } from '../gateway/inference-request.js';
import { validateMessagesBody } from '../providers/messages/validate.js';

/**
 * Longest model name accepted: far beyond any real one (Hugging Face ids, fine-tune names, local
 * paths). A name is written to the request log and the logs, so an unbounded one would let any
 * client, even one refused for its key, write megabytes per request there.
 */
const MAX_MODEL_NAME = 256;
/** C0 and C1 control characters: no model is named with them, and they would reach terminals (`logs tail`) as escape sequences. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Half of a UTF-16 surrogate pair without the other (JSON's `"\ud800"`): such a string has no
 * UTF-8 form, so SQLite, Redis and the logs would keep another name (U+FFFD), and it can be neither
 * percent-encoded into a path (`DELETE /register/{name}`) nor into a header (`x-switchyard-target`).
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const NAME_RULE = 'a name has no control characters and no unpaired surrogates';
export const MODEL_NAME_RULE = `a model name has at most ${MAX_MODEL_NAME} characters, no control characters and no unpaired surrogates`;

/** Checks what the router itself needs; everything else is the backend's to judge. `headers` are the request's (a Messages body's meaning depends on its betas). */
export function validateInference(endpoint: Endpoint, body: unknown, headers: IncomingHttpHeaders = {}): { model: string; stream: boolean } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  if (fields.model === undefined) throw badRequest("Missing required parameter: 'model'", 'model', 'missing_required_parameter');
  if (typeof fields.model !== 'string' || fields.model.length === 0) {
    throw badRequest("Invalid type for 'model': expected a non-empty string", 'model', 'invalid_type');
  }
  if (!isPlausibleModelName(fields.model)) {
    throw badRequest(`Invalid 'model': ${MODEL_NAME_RULE}`, 'model', 'invalid_value');
  }
  const { required } = ENDPOINTS[endpoint];
  // vLLM's chat embeddings send `messages` in place of `input`: its clients go through unchanged.
  const embedsChat = endpoint === 'embeddings' && Array.isArray(fields.messages);
  if ((fields[required] === undefined || fields[required] === null) && !embedsChat) {
    throw badRequest(`Missing required parameter: '${required}'`, required, 'missing_required_parameter');
  }
  if ((endpoint === 'chat' || endpoint === 'messages') && !Array.isArray(fields.messages)) {
    throw badRequest("Invalid type for 'messages': expected an array", 'messages', 'invalid_type');
  }
  if (endpoint === 'messages') {
    // Anthropic refuses an empty conversation; an engine given the translation would answer for an empty prompt.
    if ((fields.messages as unknown[]).length === 0) throw badRequest("Invalid 'messages': at least one message is required", 'messages', 'invalid_value');
    validateMaxTokens(fields.max_tokens);
    validateMessagesBody(fields, headers['anthropic-beta']);
  }
  if (endpoint === 'responses' && typeof fields.input !== 'string' && !Array.isArray(fields.input)) {
    throw badRequest("Invalid type for 'input': expected a string or an array", 'input', 'invalid_type');
  }
  // Any other id would be taken for none: the bridge would answer without the conversation, an engine's replica would be guessed.
  const previous = fields.previous_response_id;
  if (endpoint === 'responses' && previous !== undefined && previous !== null && (typeof previous !== 'string' || previous.length === 0)) {
    throw badRequest("Invalid type for 'previous_response_id': expected a non-empty string", 'previous_response_id', 'invalid_type');
  }
  // Read by the router on this route (a bridged response is kept unless it is false): what is no flag would be taken for true.
  if (endpoint === 'responses') validateFlag(fields, 'store');
  validateFlag(fields, 'stream');
  return { model: fields.model, stream: fields.stream === true && endpoint !== 'embeddings' };
}

/** A flag the router reads: absent, null or a boolean; anything else would be misread. */
function validateFlag(fields: Record<string, unknown>, name: string): void {
  const value = fields[name];
  if (value !== undefined && value !== null && typeof value !== 'boolean') throw badRequest(`Invalid type for '${name}': expected a boolean`, name, 'invalid_type');
}

/** The Messages API requires `max_tokens` whichever target serves it: a body Anthropic would refuse is refused alike, before any translation. */
function validateMaxTokens(maxTokens: unknown): void {
  if (maxTokens === undefined) throw badRequest("Missing required parameter: 'max_tokens'", 'max_tokens', 'missing_required_parameter');
  if (!Number.isSafeInteger(maxTokens) || (maxTokens as number) < 1) {
    throw badRequest("Invalid 'max_tokens': expected an integer of at least 1", 'max_tokens', 'invalid_value');
  }
}

/** A name the router may route, log and show; what a target serves is checked later. */
export function isPlausibleModelName(model: string): boolean {
  return model.length <= MAX_MODEL_NAME && isPlausibleName(model);
}

/** A name (of a model, an agent) the router may store, log, show on a terminal and put in a URL or header as it is. */
export function isPlausibleName(name: string): boolean {
  return !CONTROL_CHARACTER.test(name) && !UNPAIRED_SURROGATE.test(name);
}
