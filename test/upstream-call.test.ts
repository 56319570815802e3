import { createServer } from 'node:http';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { RequestAbort } from '../src/gateway/abort.js';
import { callUpstream, UpstreamBody } from '../src/upstream/call.js';
import { listenOnLoopback } from './support/http.js';

function fakeUpstream() {
  const state = { resumes: 0, cancelled: undefined as Error | undefined };
  const upstream = {
    resume() {
      state.resumes++;
    },
    cancel(reason: Error) {
      state.cancelled = reason;
    },
  };
  return { upstream, state };
}

describe('UpstreamBody', () => {
  it('pauses the upstream when unread chunks pile up and resumes it as they are read', async () => {
    const { upstream, state } = fakeUpstream();
    const body = new UpstreamBody(upstream);
    const accepted = Array.from({ length: 20 }, (_, i) => body.push(Buffer.from(String(i % 10))));
    body.end();
    expect(accepted.indexOf(false)).toBe(15);
    const text = (await body.readAll(1024)).toString();
    expect(text).toBe('01234567890123456789');
    expect(state.resumes).toBe(1);
  });

  it('pipes what has arrived at once and the rest as it arrives, pausing the upstream while the sink is full', () => {
    const { upstream, state } = fakeUpstream();
    const body = new UpstreamBody(upstream);
    body.push(Buffer.from('a'));
    const seen: string[] = [];
    let full = false;
    const ends: string[] = [];
    body.pipe({ data: (chunk) => (seen.push(chunk.toString()), !full), end: () => ends.push('end'), fail: (error) => ends.push(error.message) });
    expect(seen).toEqual(['a']);
    full = true;
    expect(body.push(Buffer.from('b'))).toBe(false);
    full = false;
    body.resume();
    body.resume();
    expect(state.resumes).toBe(1);
    const reason = new Error('give up');
    body.cancel(reason);
    expect(state.cancelled).toBe(reason);
    body.fail(new Error('socket closed'));
    expect(seen).toEqual(['a', 'b']);
    expect(ends).toEqual(['socket closed']);
  });

  it('ends a sink piped after the body already ended', () => {
    const body = new UpstreamBody(fakeUpstream().upstream);
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
    const origin = await listenOnLoopback(server);
    const agent = new Agent();
    const abort = new RequestAbort();
    const response = await callUpstream(agent, { origin, path: '/', method: 'GET' }, abort);
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

  it('resolves with the final answer, after early hints, with lower-case names and repeated headers as arrays', async () => {
    const server = createServer((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(201, [['X-Thing', 'one'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'application/json']]);
      res.end('{"ok":true}');
    });
    const origin = await listenOnLoopback(server);
    const agent = new Agent();
    const response = await callUpstream(agent, { origin, path: '/', method: 'GET' }, new RequestAbort());
    expect(response.statusCode).toBe(201);
    expect(response.headers['x-thing']).toBe('one');
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(response.headers['content-type']).toBe('application/json');
    expect((await response.body.readAll(1024)).toString()).toBe('{"ok":true}');
    await agent.close();
    server.close();
  });

  it('leaves out a header named __proto__, which as a property would replace the prototype of the headers', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, [['__proto__', 'polluted'], ['Content-Type', 'application/json']]);
      res.end('{}');
    });
    const origin = await listenOnLoopback(server);
    const agent = new Agent();
    const response = await callUpstream(agent, { origin, path: '/', method: 'GET' }, new RequestAbort());
    expect(Object.getPrototypeOf(response.headers)).toBe(Object.prototype);
    expect(Object.keys(response.headers)).not.toContain('__proto__');
    expect(response.headers['content-type']).toBe('application/json');
    await response.body.readAll(1024);
    await agent.close();
    server.close();
  });

  it('rejects at once for a request already aborted', async () => {
    const abort = new RequestAbort();
    abort.abort(new Error('too late'));
    await expect(callUpstream(new Agent(), { origin: 'http://127.0.0.1:9', path: '/', method: 'GET' }, abort)).rejects.toThrow('too late');
  });
});
