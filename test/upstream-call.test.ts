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

  it('pipes what has arrived at once and the rest as it arrives, pausing the upstream while the sink is full', () => {
    const { controller, state } = fakeController();
    const body = new UpstreamBody(controller);
    body.push(Buffer.from('a'));
    const seen: string[] = [];
    let full = false;
    const ends: string[] = [];
    body.pipe({ data: (chunk) => (seen.push(chunk.toString()), !full), end: () => ends.push('end'), fail: (error) => ends.push(error.message) });
    expect(seen).toEqual(['a']);
    full = true;
    body.push(Buffer.from('b'));
    expect(state.paused).toBe(true);
    full = false;
    body.resume();
    expect(state.paused).toBe(false);
    body.fail(new Error('socket closed'));
    expect(seen).toEqual(['a', 'b']);
    expect(ends).toEqual(['socket closed']);
  });

  it('ends a sink piped after the body already ended', () => {
    const { controller } = fakeController();
    const body = new UpstreamBody(controller);
    body.push(Buffer.from('whole'));
    body.end();
    const seen: string[] = [];
    body.pipe({ data: (chunk) => (seen.push(chunk.toString()), true), end: () => seen.push('end'), fail: () => seen.push('fail') });
    expect(seen).toEqual(['whole', 'end']);
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
    const reason = new Error('client gone');
    const failed = new Promise<Error>((resolve) => {
      response.body.pipe({
        data: (chunk) => (expect(chunk.toString()).toBe('data: 1\n\n'), abort.abort(reason), true),
        end: () => resolve(new Error('ended instead of failing')),
        fail: resolve,
      });
    });
    expect(await failed).toBe(reason);
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
