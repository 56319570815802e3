import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter, stopAll, type Proc } from './support/processes.js';
import { listenOnLoopback } from './support/http.js';

/** 32 MB in 1 KB events: more than loopback's socket buffers can absorb on the way. */
const EVENTS = 32 * 1024;
const EVENT = `data: {"choices":[{"index":0,"delta":{"content":"${'x'.repeat(990)}"}}]}\n\n`;

describe('a client slower than its stream', () => {
  let engine: Server;
  let router: Proc;
  let engineFinished = false;

  beforeAll(async () => {
    // An engine that writes as fast as its socket lets it, and notes when it got everything out.
    engine = createServer((req, res) => {
      if (req.method === 'GET') return void res.end('{"object":"list","data":[]}');
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const write = () => {
        while (sent < EVENTS) if (!res.write(EVENT.replace('"index":0', `"index":0,"n":${sent++}`))) return void res.once('drain', write);
        res.end('data: [DONE]\n\n', () => (engineFinished = true));
      };
      write();
    });
    router = await startRouter({ services: [{ name: 'engine', url: await listenOnLoopback(engine), models: ['big'] }] });
  });
  afterAll(async () => {
    await stopAll();
    engine.close();
  });

  it('holds the engine back while the client does not read, then delivers every event in order', async () => {
    const { hostname, port } = new URL(router.url);
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request({ hostname, port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'everything' }] }));
    });
    expect(response.statusCode).toBe(200);
    response.pause();
    await new Promise((r) => setTimeout(r, 1500));
    // Had the router read on regardless, it would now hold the whole stream in memory.
    expect(engineFinished).toBe(false);

    let text = '';
    response.setEncoding('utf8');
    for await (const piece of response) text += piece;
    expect(engineFinished).toBe(true);
    const numbers = [...text.matchAll(/"n":(\d+)/g)].map((match) => Number(match[1]));
    expect(numbers.length).toBe(EVENTS);
    expect(numbers.every((n, i) => n === i)).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});
