import { expect } from 'vitest';

/** Queries a retrieve (`GET /v1/responses/{id}?…`) is refused for, each with the parameter its 400 names. */
const REFUSED_RETRIEVE_QUERIES: ReadonlyArray<readonly [query: string, param: string]> = [
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

/** Sends each refused query to `responseUrl` (a response's retrieve URL) and checks its 400: OpenAI's shape, naming the parameter, repeating only the start of a long value. */
export async function expectRetrieveQueriesRefused(responseUrl: string): Promise<void> {
  for (const [query, param] of REFUSED_RETRIEVE_QUERIES) {
    const refused = await fetch(`${responseUrl}?${query}`);
    expect(refused.status, query).toBe(400);
    const body = (await refused.json()) as { error: { message: string } };
    expect(body, query).toEqual({ error: { message: expect.stringContaining(`'${param}'`), type: 'invalid_request_error', param, code: 'invalid_value' } });
    expect(body.error.message.length, query).toBeLessThan(600);
  }
}
