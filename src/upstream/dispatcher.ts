import { Agent } from 'undici';

/**
 * One keep-alive connection pool per backend origin (undici's Agent keeps a Pool per origin).
 * Connections are not capped: a stream holds its connection for minutes, and a cap would queue
 * new requests behind idle streams (admission is the engines' and rate limits' job). Timeouts
 * are enforced per request by the gateway's deadline, not by the pool.
 */
export function createUpstreamAgent(): Agent {
  return new Agent({
    connections: null,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}
