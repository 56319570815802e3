import { Agent } from 'undici';

/**
 * One keep-alive connection pool per backend origin (undici's Agent keeps a Pool per origin).
 * Timeouts are enforced per request by the gateway's deadline, not by the pool.
 */
export function createUpstreamAgent(): Agent {
  return new Agent({
    connections: 256,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}
