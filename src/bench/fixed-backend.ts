import { createServer } from 'node:http';

/**
 * The benchmark's upstream: answers every POST at once with the same small chat completion, or
 * with a fixed SSE stream; `"hold": true` streams one chunk and then stays open (idle streams);
 * `"chunks": N` streams N chunks, each in its own turn of the event loop (a long generation).
 */
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A fixed answer for benchmarking.' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 8, completion_tokens: 6, total_tokens: 14 },
});
const CHUNK = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, delta: { content: 'token' }, finish_reason: null }] })}\n\n`;
const MODELS = JSON.stringify({ object: 'list', data: [{ id: 'bench', object: 'model', created: 1_700_000_000, owned_by: 'bench' }] });

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url === '/v1/models' ? MODELS : '{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (!body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) });
      res.end(COMPLETION);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(CHUNK);
    if (body.includes('"hold":true')) return;
    const count = Number(/"chunks":(\d+)/.exec(body)?.[1] ?? 3);
    let sent = 1;
    const next = () => {
      if (sent++ < count) {
        res.write(CHUNK);
        setImmediate(next);
      } else res.end('data: [DONE]\n\n');
    };
    next();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ msg: 'backend listening', port: typeof address === 'object' && address ? address.port : 0 }));
});
