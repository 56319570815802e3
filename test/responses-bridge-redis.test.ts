import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConforms, RESPONSE_EVENT_SCHEMA } from './support/conformance.js';
import { fixture, FakeUpstream } from './support/fake-upstream.js';
import { keptResponsesClient, makeUntilFirstDropped } from './support/kept-responses.js';
import { startRouter, stopAll, waitFor, type Proc } from './support/processes.js';
import { startRedis, type RedisProc } from './support/redis.js';

type ApiFailure = InstanceType<typeof OpenAI.APIError>;

const CLAUDE_TEXT = 'Hello! The image shows a red square on a white background.';

describe('responses the router keeps for Claude, shared by two router instances through one Redis', () => {
  let redis: RedisProc;
  let anthropic: FakeUpstream;
  let routers: Proc[];
  let clients: OpenAI[];

  beforeAll(async () => {
    [redis, anthropic] = await Promise.all([startRedis(), FakeUpstream.start()]);
    const config = { services: [{ name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-x'], api_key: 'sk-ant-test-key' }] };
    routers = await Promise.all([startRouter(config, { REDIS_URL: redis.url }), startRouter(config, { REDIS_URL: redis.url })]);
    clients = routers.map((router) => new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
  });
  afterAll(async () => {
    await stopAll();
    await Promise.all([redis.stop(), anthropic.close()]);
  });

  it('continues through one instance a response made through the other, streamed and not, turn after turn, Anthropic getting the whole conversation', async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const first = await a.responses.create({ model: 'claude-x', input: 'Hi' });

    anthropic.reply({ sse: fixture('anthropic/stream-text.sse') });
    const stream = b.responses.stream({ model: 'claude-x', input: 'Go on', previous_response_id: first.id, stream: true });
    for await (const event of stream) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
    const second = await stream.finalResponse();
    expect(second.previous_response_id).toBe(first.id);
    const turns = [
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: CLAUDE_TEXT }] },
      { role: 'user', content: [{ type: 'text', text: 'Go on' }] },
    ];
    expect(anthropic.last().body.messages).toEqual(turns);

    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const third = await a.responses.create({ model: 'claude-x', input: 'And then?', previous_response_id: second.id });
    expect(third.previous_response_id).toBe(second.id);
    expect(anthropic.last().body.messages).toEqual([...turns, { role: 'assistant', content: [{ type: 'text', text: second.output_text }] }, { role: 'user', content: [{ type: 'text', text: 'And then?' }] }]);
  });

  it('retrieves, lists and deletes through one instance a response made through the other; deleted, it is gone for both', async () => {
    const [a, b] = clients as [OpenAI, OpenAI];
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const made = await a.responses.create({ model: 'claude-x', input: 'Made through A' });
    const before = anthropic.received.length;

    expect(await b.responses.retrieve(made.id)).toEqual(made);
    const items = [];
    for await (const item of b.responses.inputItems.list(made.id)) items.push(item);
    expect(items).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Made through A' }] }]);
    expect(await b.responses.delete(made.id)).toEqual({ id: made.id, object: 'response', deleted: true });
    for (const client of [a, b]) {
      const gone = await client.responses.retrieve(made.id).catch((error: unknown) => error as ApiFailure);
      expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
      const continued = await client.responses.create({ model: 'claude-x', input: 'More', previous_response_id: made.id }).catch((error: unknown) => error as ApiFailure);
      expect((continued as ApiFailure).code).toBe('previous_response_not_found');
    }
    expect(anthropic.received.length).toBe(before);
  });

  it('bounds them in Redis by bridged_responses.max_bytes, the oldest dropped first, none larger than the bound kept', async () => {
    const router = await startRouter({
      services: [{ name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-x'], api_key: 'sk-ant-test-key' }],
      redis: { url: redis.url, key_prefix: 'bounded:' },
      bridged_responses: { max_bytes: 8000 },
    });
    const bounded = keptResponsesClient(router.url, anthropic);
    const redisClient = new Redis(redis.url);
    try {
      const tooLarge = await bounded.make('x'.repeat(10_000));
      expect(await bounded.kept(tooLarge.id)).toBe(false);
      const { made, found } = await makeUntilFirstDropped(bounded);
      const firstKept = found.indexOf(true);
      expect(firstKept).toBeGreaterThan(0);
      expect(found.slice(firstKept).every(Boolean)).toBe(true);
      // Kept in Redis, within the bound.
      expect(await redisClient.exists(`bounded:kept:${made.at(-1)!}`)).toBe(1);
      expect(await redisClient.exists(`bounded:kept:${made[0]!}`)).toBe(0);
      expect(Number(await redisClient.get('bounded:kept-bytes'))).toBeLessThanOrEqual(8000);
      expect(await redisClient.zcard('bounded:kept-index')).toBe(made.length - firstKept);
    } finally {
      redisClient.disconnect();
    }
  });

  it('deletes a response once when deletes of it come through both instances at once: one is answered the deletion, the others 404', async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const made = await clients[0]!.responses.create({ model: 'claude-x', input: 'Delete me twice' });
    const deletes = await Promise.all(Array.from({ length: 8 }, (_, at) => fetch(`${routers[at % 2]!.url}/v1/responses/${made.id}`, { method: 'DELETE' })));
    const answers = await Promise.all(deletes.map(async (answer) => ({ status: answer.status, body: (await answer.json()) as unknown })));
    expect(answers.filter((answer) => answer.status === 200)).toEqual([{ status: 200, body: { id: made.id, object: 'response', deleted: true } }]);
    for (const answer of answers.filter(({ status }) => status !== 200)) {
      expect(answer).toEqual({ status: 404, body: { error: { message: expect.stringContaining(made.id), type: 'invalid_request_error', param: null, code: 'response_not_found' } } });
    }
  });

  // Last: Redis comes back empty.
  it('goes on, once Redis is back, with a conversation an instance kept in its own memory while Redis was away; deleted, it is gone', async () => {
    const [a] = clients as [OpenAI, OpenAI];
    const redisUp = async (up: boolean) => new RegExp(`^switchyard_redis_up ${up ? 1 : 0}$`, 'm').test(await (await fetch(`${routers[0]!.url}/metrics`)).text());
    await redis.stop();
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    // The first request after the outage may be the one that finds it: kept locally all the same.
    const made = await a.responses.create({ model: 'claude-x', input: 'Made while Redis was away' });
    await waitFor(() => redisUp(false), 'the outage seen');
    redis = await startRedis(redis.port);
    await waitFor(() => redisUp(true), 'redis to be back');

    expect(await a.responses.retrieve(made.id)).toEqual(made);
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const next = await a.responses.create({ model: 'claude-x', input: 'More', previous_response_id: made.id });
    expect(next.previous_response_id).toBe(made.id);
    expect(anthropic.last().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Made while Redis was away' }] },
      { role: 'assistant', content: [{ type: 'text', text: CLAUDE_TEXT }] },
      { role: 'user', content: [{ type: 'text', text: 'More' }] },
    ]);
    expect(await a.responses.delete(made.id)).toEqual({ id: made.id, object: 'response', deleted: true });
    expect(await a.responses.retrieve(made.id).catch((error: unknown) => error)).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
