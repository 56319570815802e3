import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { startRouter, type Proc } from './processes.js';
import { listenOnLoopback } from './http.js';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The body as its bytes came, to tell a body passed on as sent from one re-serialised. */
  raw: string;
}

/** A recorded answer: a JSON body (gzipped, unasked, when `gzip`), or an SSE body sent in small chunks that split lines, events and characters. */
export type Reply = { status: number; json: string; gzip?: boolean } | { sse: string; chunkBytes?: number };

export function fixture(path: string): string {
  return readFileSync(join(import.meta.dirname, '../fixtures', path), 'utf8');
}

/**
 * A stand-in for a hosted API on loopback: records every request it receives and answers each
 * POST with the next queued reply (404 for anything else, as a hosted API without /health would).
 */
export class FakeUpstream {
  readonly received: ReceivedRequest[] = [];
  private readonly replies: Reply[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeUpstream> {
    const server = createServer();
    const fake = new FakeUpstream(server, await listenOnLoopback(server));
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        fake.received.push({ method: req.method!, url: req.url!, headers: req.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, raw: text });
        const reply = req.method === 'POST' ? fake.replies.shift() : undefined;
        if (!reply) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
          return;
        }
        if ('json' in reply) {
          if (reply.gzip) res.writeHead(reply.status, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(reply.json));
          else res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.json);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        void sendInPieces(res, Buffer.from(reply.sse), reply.chunkBytes ?? 7);
      });
    });
    return fake;
  }

  reply(...replies: Reply[]): void {
    this.replies.push(...replies);
  }

  /** The body of the last request received, the one a test just caused. */
  last(): ReceivedRequest {
    const request = this.received.at(-1);
    if (!request) throw new Error('the fake upstream received no request');
    return request;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** Writes `bytes` in pieces of `size`, each a network chunk of its own: lines, events and characters get cut between them. */
export async function sendInPieces(res: ServerResponse, bytes: Buffer, size: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += size) {
    res.write(bytes.subarray(at, at + size));
    // a turn of the event loop between writes, so pieces leave as separate chunks
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

/**
 * A fake provider API behind a router that knows it as `service` (its `url` filled in), and an
 * OpenAI client of the router: each provider test's set-up. `config` adds or overrides router settings.
 */
export async function providerBehindRouter(service: Record<string, unknown>, config: Record<string, unknown>): Promise<{ fake: FakeUpstream; router: Proc; client: OpenAI }> {
  const fake = await FakeUpstream.start();
  const router = await startRouter({ ...config, services: [{ ...service, url: fake.url }] });
  return { fake, router, client: new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-key', maxRetries: 0 }) };
}
