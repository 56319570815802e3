import OpenAI from 'openai';
import { fixture, type FakeUpstream } from './fake-upstream.js';

/** A client of a router serving `claude-x` from `anthropic`, with a maker of Responses through it and a check of whether the router keeps one. */
export function keptResponsesClient(routerUrl: string, anthropic: FakeUpstream) {
  const client = new OpenAI({ baseURL: `${routerUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  const make = (input: string) => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    return client.responses.create({ model: 'claude-x', input });
  };
  const kept = async (id: string) => !(await client.responses.retrieve(id).then(() => undefined, (error: unknown) => error) instanceof OpenAI.NotFoundError);
  return { client, make, kept };
}

/**
 * Makes responses through a router whose kept responses are bounded by size until the first is
 * dropped (at most `most`): their ids, and which of them are kept at the end.
 */
export async function makeUntilFirstDropped({ make, kept }: ReturnType<typeof keptResponsesClient>, most = 30): Promise<{ made: string[]; found: boolean[] }> {
  const made: string[] = [];
  while (made.length < most && (made.length === 0 || (await kept(made[0]!)))) made.push((await make(`turn ${made.length}`)).id);
  return { made, found: await Promise.all(made.map(kept)) };
}
