import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

/**
 * The yardstick: a plain pass-through proxy on undici's `request()`, the way one is
 * usually written, with nothing of a gateway (no parsing, routing, metrics or logs).
 * `node undici-proxy.js UPSTREAM_URL`.
 */
const pool = new Pool(process.argv[2]!, { connections: 256 });

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const upstream = await pool.request({
      method: 'POST',
      path: req.url!,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: Buffer.concat(chunks),
    });
    const contentType = upstream.headers['content-type'];
    res.writeHead(upstream.statusCode, contentType ? { 'content-type': contentType } : {});
    await pipeline(upstream.body, res);
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ msg: 'proxy listening', port: typeof address === 'object' && address ? address.port : 0 }));
});
