import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { RequestAbort } from '../src/gateway/abort.js';
import { callUpstream, UpstreamBody } from '../src/upstream/call.js';

function fakeController() {
  const state = { paused: false, pauses: 0, resumes: 0 };
  const controller = {
    get aborted() {
      return false;
    },
    get paused() {
      return state.paused;
    },
    get reason() {
      return null;
    },
    abort() {},
    pause() {
      state.paused = true;
      state.pauses++;
    },
    resume() {
      state.paused = false;
      state.resumes++;
    },
  } as Dispatcher.DispatchController;
  return { controller, state };
}

describe('UpstreamBody', () => {
  it('pauses the upstream when unread chunks pile up and resumes it as they are read', async () => {
    const { controller, state } = fakeController();
    const body = new UpstreamBody(controller);
    for (let i = 0; i < 20; i++) body.push(Buffer.from(String(i % 10)));
    body.end();
    expect(state.pauses).toBeGreaterThan(0);
    expect(state.paused).toBe(true);
    const text = (await body.readAll()).toString();
    expect(text).toBe('01234567890123456789');
    expect(state.resumes).toBeGreaterThan(0);
    expect(state.paused).toBe(false);
  });

  it('yields chunks as they arrive and then the failure', async () => {
    const { controller } = fakeController();
    const body = new UpstreamBody(controller);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const chunk of body) seen.push(chunk.toString());
    })();
    body.push(Buffer.from('a'));
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['a']);
    body.fail(new Error('socket closed'));
    await expect(reading).rejects.toThrow('socket closed');
  });
});

describe('callUpstream', () => {
  it('aborts the upstream request when the request is aborted mid-body', async () => {
    let closed = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      res.on('close', () => (closed = true));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const agent = new Agent();
    const abort = new RequestAbort();
    const { port } = server.address() as AddressInfo;
    const response = await callUpstream(agent, { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' }, abort);
    expect(response.statusCode).toBe(200);
    const iterator = response.body[Symbol.asyncIterator]();
    expect((await iterator.next()).value.toString()).toBe('data: 1\n\n');
    const reason = new Error('client gone');
    abort.abort(reason);
    await expect(iterator.next()).rejects.toBe(reason);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    await agent.close();
    server.close();
  });

  it('rejects at once for a request already aborted', async () => {
    const abort = new RequestAbort();
    abort.abort(new Error('too late'));
    await expect(callUpstream(new Agent(), { origin: 'http://127.0.0.1:9', path: '/', method: 'GET' }, abort)).rejects.toThrow('too late');
  });
});
