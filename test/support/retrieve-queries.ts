/** Queries a retrieve (`GET /v1/responses/{id}?…`) is refused for, each with the parameter its 400 names. */
export const REFUSED_RETRIEVE_QUERIES: ReadonlyArray<readonly [query: string, param: string]> = [
  ['include=no.such.field', 'include'],
  ['include[]=message.output_text.logprobs&include[]=logprobs', 'include'],
  // Its message repeats only the start of it.
  [`include=${'x'.repeat(8000)}`, 'include'],
  ['stream=1', 'stream'],
  ['stream=0', 'stream'],
  ['stream=yes', 'stream'],
  ['stream=True', 'stream'],
  ['stream=', 'stream'],
  ['stream=true&stream=false', 'stream'],
  ['starting_after=x', 'starting_after'],
  ['stream=true&starting_after=-1', 'starting_after'],
  ['include_obfuscation=1', 'include_obfuscation'],
];
