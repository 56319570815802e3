import type { Redis, RedisOptions } from 'ioredis';

/**
 * Connection settings for every Redis client of the router: a command never waits for a
 * connection (no offline queue, no retries, a timeout), so an unreachable Redis costs the caller a
 * fast failure and its local fallback, while ioredis keeps reconnecting in the background.
 */
export function failFastOptions(commandTimeoutMs: number | undefined): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    lazyConnect: false,
  };
}

/** The URL without its password, for log lines. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Resolves true once `client` is connected, false after `timeoutMs`. */
export function whenReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
