import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

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

/**
 * Whether `url` is one of the forms ioredis documents: `redis://` or `rediss://` with a host (and,
 * as a path, at most a database number), or the absolute path of a Unix socket. ioredis takes any
 * other text too, by guessing: `localhost:6379` as `redis://localhost:6379` (a fallback its own
 * source means to drop), `garbage` as a host name it retries forever, `http://x` as the socket
 * `//x`; a router given a mistyped URL would then serve on local state, its instances unshared,
 * with nothing but a warning in the log.
 */
export function isRedisUrl(url: string): boolean {
  if (url.startsWith('/') && !url.startsWith('//')) return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') && parsed.hostname !== '' && /^\/?\d*$/.test(parsed.pathname);
}

/** The URL without its password, for log lines. */
function redactUrl(url: string): string {
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

/** How long a client is left alone after a failed command: a Redis that hangs costs at most one command timeout per this long. */
const REST_AFTER_FAILURE_MS = 1000;

/**
 * The pause after a failed command, during which callers use their local fallback at once: a
 * Redis that is connected but does not answer (hung, overloaded) would otherwise cost every call a
 * command timeout, and keep every command sent meanwhile, arguments and all, in the client's
 * memory until it answers.
 */
export class FailureRest {
  /** When the rest ends (performance.now()); 0 once a command has succeeded since. */
  private until = 0;

  get resting(): boolean {
    return this.until !== 0 && performance.now() < this.until;
  }

  /** From a failed command until one succeeds, rest or no rest: a hung Redis stays failing while calls try it again now and then. */
  get failing(): boolean {
    return this.until !== 0;
  }

  begin(): void {
    this.until = performance.now() + REST_AFTER_FAILURE_MS;
  }

  /** A command succeeded: true when that ended a rest (what the caller decided alone meanwhile is to be handed over). */
  end(): boolean {
    if (this.until === 0) return false;
    this.until = 0;
    return true;
  }
}

/** Says once that Redis went away (however many failures follow) and once that it is back. */
export class OutageNotice {
  private down = false;

  constructor(
    private readonly log: Logger,
    private readonly url: string,
    private readonly messages: { lost: string; back: string },
  ) {}

  lost(error: Error): void {
    if (this.down) return;
    this.down = true;
    this.log.warn({ err: error.message, url: redactUrl(this.url) }, this.messages.lost);
  }

  back(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info(this.messages.back);
  }
}
