import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { monitorRedis, startRedis, type RedisProc } from './support/redis.js';

type NotFound = InstanceType<typeof OpenAI.NotFoundError>;

describe('previous_response_id through two router instances sharing one Redis', () => {
  let redis: RedisProc;
  let sims: Proc[];
  let routers: Proc[];
  let clients: OpenAI[];

  /**
   * Runs `step` and returns the commands on response holders Redis received meanwhile (as MONITOR
   * shows them, e.g. `get switchyard:response:resp_…`), once `expected` have come: a remembered
   * holder is written without the answer waiting for it.
   */
  const holderCommands = async (expected: number, step: () => Promise<void>): Promise<string[]> => {
    const monitor = await monitorRedis(redis.port);
    const holderCommandsSeen = () => monitor.commands.filter(([, key]) => key?.startsWith('switchyard:response:')).map(([name, key]) => `${name} ${key}`);
    try {
      await step();
      await waitFor(() => holderCommandsSeen().length >= expected, `${expected} commands on response holders`);
      // Time for any unexpected one to show.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return holderCommandsSeen();
    } finally {
      monitor.close();
    }
  };

  /** Continues `previous` through `client`, streamed or not: the answering target and the new response's id. */
  const continueThrough = async (client: OpenAI, previous: string, stream: boolean): Promise<{ target: string | null; id: string }> => {
    if (!stream) {
      const { data, response } = await client.responses.create({ model: 'm1', input: 'next turn', previous_response_id: previous }).withResponse();
      expect(data.previous_response_id).toBe(previous);
      return { target: response.headers.get('x-switchyard-target'), id: data.id };
    }
    const { data: events, response } = await client.responses.create({ model: 'm1', input: 'next turn', previous_response_id: previous, stream: true }).withResponse();
    let id: string | undefined;
    for await (const event of events) if (event.type === 'response.completed') id = event.response.id;
    expect(id).toBeDefined();
    return { target: response.headers.get('x-switchyard-target'), id: id! };
  };

  beforeAll(async () => {
    redis = await startRedis();
    sims = await Promise.all([startSim({ models: ['m1'], ttftMs: 5 }), startSim({ models: ['m1'], ttftMs: 5 })]);
    // Round-robin: without shared affinity, an instance that never saw a response sends every other continuation to the replica that does not hold it.
    const config = { routing: { policy: 'round-robin' }, services: sims.map((sim, i) => ({ name: `r${i}`, url: sim.url })) };
    routers = await Promise.all([startRouter(config, { REDIS_URL: redis.url }), startRouter(config, { REDIS_URL: redis.url })]);
    clients = routers.map((router) => new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
  });
  afterAll(async () => {
    await stopAll();
    await redis.stop();
  });

  it('continues a response made through one instance through the other, turn after turn, streamed and not, on the replica holding it', async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    for (let conversation = 0; conversation < 3; conversation++) {
      const first = await a.responses.create({ model: 'm1', input: `conversation ${conversation}` }).withResponse();
      const holder = first.response.headers.get('x-switchyard-target');
      let previous = first.data.id;
      // Each turn goes through the instance that did not relay the previous one.
      for (let turn = 1; turn <= 6; turn++) {
        const next = await continueThrough(turn % 2 ? b : a, previous, turn % 3 === 0);
        expect(next.target, `conversation ${conversation}, turn ${turn}`).toBe(holder);
        previous = next.id;
      }
    }
  });

  it('asks Redis only for a continued response this instance has not seen: not for chat, nor for a new response, nor twice', async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    let made: OpenAI.Responses.Response | undefined;
    let mine: OpenAI.Responses.Response | undefined;
    const writes = await holderCommands(3, async () => {
      await b.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
      made = await a.responses.create({ model: 'm1', input: 'a new conversation' });
      mine = await b.responses.create({ model: 'm1', input: 'seen here' });
      await continueThrough(b, mine.id, false);
    });
    // The three responses made, remembered for the other instance; nothing looked up.
    expect(writes.map((command) => command.split(' ')[0])).toEqual(['set', 'set', 'set']);
    const lookups = await holderCommands(3, async () => {
      await continueThrough(b, made!.id, false);
      await continueThrough(b, made!.id, true);
    });
    // One lookup of the response made through A; the second continuation of it finds it known. The two new responses are remembered.
    expect(lookups.filter((command) => command.startsWith('get '))).toEqual([`get switchyard:response:${made!.id}`]);
    expect(lookups.filter((command) => command.startsWith('set '))).toHaveLength(2);
  });

  it('retrieves, lists and deletes through the instance that did not see the response made, on its holder; a deleted response is forgotten in Redis and by every instance', async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    const { data: made, response } = await a.responses.create({ model: 'm1', input: 'made through A' }).withResponse();
    const holder = response.headers.get('x-switchyard-target');
    const lookups = await holderCommands(1, async () => {
      for (let i = 0; i < 3; i++) {
        const { data, response: answer } = await b.responses.retrieve(made.id).withResponse();
        expect(answer.headers.get('x-switchyard-target'), `retrieve ${i}`).toBe(holder);
        expect(data.output_text).toBe(made.output_text);
      }
      const items = [];
      for await (const item of b.responses.inputItems.list(made.id)) items.push(item);
      expect(items).toHaveLength(1);
    });
    // Asked of Redis once, then known to B.
    expect(lookups).toEqual([`get switchyard:response:${made.id}`]);
    expect((await a.responses.retrieve(made.id)).id).toBe(made.id);
    const deletion = await holderCommands(1, () => b.responses.delete(made.id));
    expect(deletion).toEqual([`del switchyard:response:${made.id}`]);
    /** The router's own 404 for a response no replica is known to hold: the holder is not asked. */
    const forgotten = async (client: OpenAI) => {
      const gone = (await client.responses.retrieve(made.id).catch((error: unknown) => error)) as NotFound;
      expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
      return gone.code === 'response_not_found' && gone.message.includes('no replica is known to hold it') && gone.headers?.get('x-switchyard-target') === null;
    };
    expect(await forgotten(b)).toBe(true);
    // A, which made the response and remembered its holder, is told of the deletion too (announced through Redis, as it happens).
    await waitFor(() => forgotten(a), 'A to forget the deleted response', 2000);
  });

  it("reads a holder stored by an earlier version (the replica's name alone; replica and model without owner) during a rolling upgrade", async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    const redisClient = new Redis(redis.url);
    try {
      for (const format of ['plain name', 'replica and model'] as const) {
        const { data: made, response } = await a.responses.create({ model: 'm1', input: `stored by an earlier version: ${format}` }).withResponse();
        const holder = response.headers.get('x-switchyard-target')!;
        // B has not seen the response: it reads what Redis holds, written as the earlier version wrote it.
        await redisClient.set(`switchyard:response:${made.id}`, format === 'plain name' ? holder : JSON.stringify([holder, 'm1']));
        const { data, response: answer } = await b.responses.retrieve(made.id).withResponse();
        expect(answer.headers.get('x-switchyard-target'), format).toBe(holder);
        expect(data.output_text, format).toBe(made.output_text);
        await b.responses.delete(made.id);
      }
    } finally {
      redisClient.disconnect();
    }
  });

  it('answers with routing as usual while Redis is hung, then gone: the engine holding the response, or its 404', async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    const made = await Promise.all([0, 1, 2, 3].map((i) => a.responses.create({ model: 'm1', input: `before the outage ${i}` }).withResponse()));
    const holders = new Map(made.map(({ data, response }) => [data.id, response.headers.get('x-switchyard-target')]));
    const [hung, gone1, gone2, gone3] = made.map(({ data }) => data.id) as [string, string, string, string];
    /** The continuation through B, answered either by the holder (routed there by chance) or by the other replica's 404. */
    const continuedAsUsual = async (id: string, stream: boolean) => {
      const startedAt = performance.now();
      const outcome = await continueThrough(b, id, stream).catch((error: unknown) => error);
      if (outcome instanceof OpenAI.NotFoundError) {
        expect((outcome as NotFound).code).toBe('previous_response_not_found');
        expect((outcome as NotFound).headers?.get('x-switchyard-target')).not.toBe(holders.get(id));
      } else expect((outcome as { target: string }).target).toBe(holders.get(id));
      return performance.now() - startedAt;
    };

    redis.pause();
    try {
      // One lookup waits for the command timeout (250 ms), no longer.
      expect(await continuedAsUsual(hung, false)).toBeLessThan(2000);
    } finally {
      redis.resume();
    }
    await redis.stop();
    for (const [id, stream] of [[gone1, false], [gone2, true], [gone3, false]] as const) expect(await continuedAsUsual(id, stream)).toBeLessThan(2000);
    expect((await b.responses.create({ model: 'm1', input: 'without Redis' })).status).toBe('completed');
  });
});
