import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Db } from '../store/database.js';
import { RequestLog, sqliteRequestReader, type RequestLogEntry, type RequestReader } from '../store/request-log.js';

/** The request log as the router uses it: where the gateway appends, where the admin API reads. */
export interface RequestLogging {
  append(entry: RequestLogEntry): void;
  readonly reader: RequestReader;
  /** Resolves once the log is usable (at once for SQLite); false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Shared through Redis when it is configured (with this instance's SQLite log as the fallback), else SQLite alone. */
export async function createRequestLog(config: Pick<Config, 'request_log' | 'redis'>, db: Db, registry: Registry, log: Logger): Promise<RequestLogging> {
  const settings = {
    flushIntervalMs: config.request_log.flush_interval_ms,
    batchRows: config.request_log.batch_rows,
    retentionDays: config.request_log.retention_days,
    maxRows: config.request_log.max_rows,
  };
  const local = { log: new RequestLog(db, settings), reader: sqliteRequestReader(db) };
  if (!config.redis) {
    return {
      append: (entry) => local.log.append(entry),
      reader: local.reader,
      whenReady: async () => true,
      close: async () => local.log.close(),
    };
  }
  // Loaded only when used, like the Redis state: the client is a large share of resident memory.
  const { RedisRequestLog } = await import('./redis-request-log.js');
  const shared = new RedisRequestLog({ ...settings, url: config.redis.url, keyPrefix: config.redis.key_prefix }, local, registry, log);
  return {
    append: (entry) => shared.append(entry),
    reader: shared,
    whenReady: (timeoutMs) => shared.whenReady(timeoutMs),
    close: async () => {
      await shared.close();
      local.log.close();
    },
  };
}
