import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenOnLoopback } from './http.js';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

export interface FakeOpenAi {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * A minimal OpenAI-compatible provider on loopback that records every request it receives and
 * answers chat completions (whole or streamed) and its model list in OpenAI's documented shapes.
 */
export async function startFakeOpenAi(models: string[] = ['gpt-4o-mini', 'text-embedding-3-small']): Promise<FakeOpenAi> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'fake' })) }));
        return;
      }
      if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) {
        const model = String(body?.model);
        if (body?.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = (delta: object, finish: string | null) =>
            `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
          res.end(chunk({ role: 'assistant', content: 'hi' }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created: 1700000000,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, logprobs: null, finish_reason: 'stop' }],
            usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
          }),
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', param: null, code: null } }));
    });
  });
  return {
    url: await listenOnLoopback(server),
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
