import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from './support/http.js';
import { startRouter, startSim, stopAll, type Proc } from './support/processes.js';

/** Posts a streamed chat request and reads the stream to its end, as a client would. */
async function streamText(url: string, model: string): Promise<string> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, max_tokens: 400, messages: [{ role: 'user', content: 'a long story' }] }),
  });
  expect(response.status).toBe(200);
  return response.text();
}

describe('a stream its request_timeout_s cuts off', () => {
  let router: Proc;
  let stalling: Server;

  beforeAll(async () => {
    // Sends one event, then nothing: an engine that hung mid-generation.
    stalling = createServer((req, res) => {
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'stalled', choices: [{ index: 0, delta: { content: 'Once' }, finish_reason: null }] })}\n\n`);
    });
    const [stallingUrl, flowing] = await Promise.all([listenOnLoopback(stalling), startSim({ models: ['long'], ttftMs: 5, tokensPerS: 4 })]);
    router = await startRouter({
      // The sim's answers are 8 tokens or more: at 4 a second, longer than the timeout, a token every 250 ms.
      request_timeout_s: 1.5,
      health_check: { interval_s: 60, timeout_s: 1 },
      services: [
        { name: 'flowing', url: flowing.url, models: ['long'] },
        { name: 'stalled', url: stallingUrl, models: ['stalled'] },
      ],
    });
  });
  afterAll(async () => {
    await stopAll();
    stalling.closeAllConnections();
    stalling.close();
  });

  it('ends with a gateway_timeout error event, and counts against the target only when it had gone silent (health_check.timeout_s)', async () => {
    const [long, stalled] = await Promise.all([streamText(router.url, 'long'), streamText(router.url, 'stalled')]);
    for (const text of [long, stalled]) {
      expect(text.slice(-400)).toContain('"code":"gateway_timeout"');
      expect(text).not.toContain('[DONE]');
    }
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; healthy: boolean; error_count: number }> };
    const byName = Object.fromEntries(stats.services.map((service) => [service.name, service]));
    // Still generating when cut: a generation longer than the router's timeout, not a failing engine.
    expect(byName.flowing).toMatchObject({ healthy: true, error_count: 0 });
    expect(byName.stalled!.error_count).toBe(1);
  });
});
