import { badRequest, echoed } from './errors.js';

/** What OpenAI's retrieve (`GET /v1/responses/{id}`) takes in its `include` (IncludeEnum in its OpenAPI document). */
export const RETRIEVE_INCLUDES: ReadonlySet<string> = new Set([
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
]);

/** A retrieve's query, checked. */
export interface RetrieveQuery {
  /** `stream=true`: the response's events replayed rather than the Response. */
  stream: boolean;
  /** The sequence number a replay resumes after; -1 from the start. */
  startingAfter: number;
}

/**
 * The query of a retrieve, checked as OpenAI documents it: `include` a list of IncludeEnum values
 * (`include=…&include=…`, or `include[]=…` as the SDKs send it), `stream` and `include_obfuscation`
 * booleans, `starting_after` a sequence number. A boolean is `true` or `false`, as the SDKs send
 * it: `1` or `yes` is refused rather than guessed at, so that the router and the engine holding
 * the response (which is sent the query as it came) cannot read it differently. A value given
 * twice is refused for the same reason. Other parameters are left to the engine.
 */
export function retrieveQuery(query: string): RetrieveQuery {
  const params = new URLSearchParams(query);
  for (const name of ['include', 'include[]']) {
    for (const value of params.getAll(name)) {
      if (!RETRIEVE_INCLUDES.has(value)) throw badRequest(`Invalid 'include': '${echoed(value)}' is not one of ${[...RETRIEVE_INCLUDES].map((known) => `'${known}'`).join(', ')}`, 'include', 'invalid_value');
    }
  }
  single(params, 'include_obfuscation', isBoolean, 'a boolean (true or false)');
  const stream = single(params, 'stream', isBoolean, 'a boolean (true or false)');
  const after = single(params, 'starting_after', (value) => /^\d+$/.test(value), 'a sequence number (a whole number from 0)');
  return { stream: stream === 'true', startingAfter: after === undefined ? -1 : Number(after) };
}

const isBoolean = (value: string) => value === 'true' || value === 'false';

/** The one value of the parameter `name`, if given, once checked. */
function single(params: URLSearchParams, name: string, valid: (value: string) => boolean, expected: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw badRequest(`Invalid '${name}': given ${values.length} times, expected once`, name, 'invalid_value');
  const value = values[0];
  if (value !== undefined && !valid(value)) throw badRequest(`Invalid '${name}': expected ${expected}, got '${echoed(value)}'`, name, 'invalid_value');
  return value;
}
