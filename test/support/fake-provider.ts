import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './http.js';

export interface FakeReply {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Written as a stream in these pieces instead of `body`; no `[DONE]` is added. */
  chunks?: string[];
  /** Destroys the connection instead of answering. */
  hangUp?: boolean;
}

export interface FakeProvider {
  url: string;
  /** Inference requests received. */
  requests: number;
  reply: (request: { body: Record<string, unknown> }) => FakeReply | Promise<FakeReply>;
  close(): Promise<void>;
}

/** An OpenAI-compatible upstream whose every answer the test decides: errors, odd bodies, broken streams. */
export async function startFakeProvider(reply: FakeProvider['reply']): Promise<FakeProvider> {
  const fake: FakeProvider = { url: '', requests: 0, reply, close: () => Promise.resolve() };
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    fake.requests++;
    const answer = await fake.reply({ body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
    if (answer.hangUp) {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'content-type': answer.chunks ? 'text/event-stream' : 'application/json', ...answer.headers });
    if (!answer.chunks) {
      res.end(answer.body);
      return;
    }
    for (const piece of answer.chunks) res.write(piece);
    res.end();
  });
  fake.url = await listenOnLoopback(server);
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** A minimal OpenAI chat completion from `model`. */
export function chatAnswer(model: string, text = 'ok'): FakeReply {
  return {
    status: 200,
    body: JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
    }),
  };
}

export const errorReply = (status: number, error: Record<string, unknown>, headers?: Record<string, string>): FakeReply => ({ status, body: JSON.stringify({ error }), headers });
