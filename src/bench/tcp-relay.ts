import { connect, createServer } from 'node:net';

/**
 * The floor of a hop through Node: bytes relayed between two sockets, no HTTP parsed on either
 * side, so the benchmark shows how much of a proxy's added time is the event loop and the extra
 * socket round trip alone. `node tcp-relay.js UPSTREAM_PORT`.
 */
const upstreamPort = Number(process.argv[2]);

const server = createServer({ noDelay: true }, (client) => {
  const upstream = connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ msg: 'relay listening', port: typeof address === 'object' && address ? address.port : 0 }));
});
