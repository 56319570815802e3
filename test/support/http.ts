/** Small fetch and socket wrappers for tests that need the raw HTTP answer rather than an SDK object. */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export async function getJson(url: string): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test sees the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/**
 * Writes `raw` on a new connection and returns everything the router answers until it closes.
 * `halfClose` sends FIN right after the request, as some clients do once they have nothing more to send.
 */
export async function rawExchange(port: number, raw: string | Buffer, { halfClose = false } = {}): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  if (halfClose) socket.end(raw);
  else socket.write(raw);
  await once(socket, 'close');
  return received;
}

/** Starts `server` on a free loopback port; resolves with its base URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port nothing listens on: one a server had a moment ago. */
export async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  const url = await listenOnLoopback(server);
  await new Promise((resolve) => server.close(resolve));
  return Number(new URL(url).port);
}
