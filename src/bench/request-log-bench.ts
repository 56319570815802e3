/**
 * What the request log costs off the hot path, SQLite against the shared Redis stream: writing
 * rows in flush-sized batches (retention applied as in production), reading the newest rows (the
 * admin API's default page), a filter that matches nothing (the worst scan; Redis filters it
 * itself, a bounded scan per call) and the Redis memory a row takes.
 * Run: `npm run bench:request-log` (`BENCH_ROWS`, `BENCH_BATCH` adjust it).
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { RedisRequestLog } from '../state/redis-request-log.js';
import { openDatabase } from '../store/database.js';
import { RequestLog, sqliteRequestReader, type RequestLogEntry, type RequestReader } from '../store/request-log.js';
import { startRedisServer } from './redis-server.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const READ_ROWS = 10_000;

const row = (i: number): RequestLogEntry => ({
  ts: Date.now(), requestId: `req-${i}-0123456789abcdef`, callerKey: 'main', route: 'chat', model: 'llama-3-8b', target: 'sim-a', status: 200,
  latencyMs: 12.345, ttftMs: 3.2, interTokenMs: 1.1, overheadMs: 0.41, promptTokens: 120, completionTokens: 40, cachedTokens: 64, cost: 0.0012,
  cacheStatus: 'miss', retries: 0, fallbacks: 0, decision: 'cache-aware: sim-a of 4 healthy, attempt 1',
});

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function measureStream(url: string, key: string): Promise<number> {
  const client = new Redis(url);
  try {
    return Number(await client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  } finally {
    client.disconnect();
  }
}

const redis = await startRedisServer();
// Flushes happen only when the benchmark asks: no timer, no size trigger.
const settings = { flushIntervalMs: 3_600_000, batchRows: Number.MAX_SAFE_INTEGER, retentionDays: 7, maxRows: 1_000_000 };
console.log(`| log | write ${ROWS} rows, batches of ${BATCH} | per row | read newest ${READ_ROWS} | filter matching none of ${ROWS} | Redis memory per row |`);
console.log('|---|---:|---:|---:|---:|---:|');
try {
  for (const kind of ['SQLite', 'Redis stream'] as const) {
    const db = openDatabase(':memory:');
    const local = { log: new RequestLog(db, settings), reader: sqliteRequestReader(db) };
    const shared = kind === 'Redis stream' ? new RedisRequestLog({ ...settings, url: redis.url, keyPrefix: 'bench:' }, local, new Registry(), pino({ level: 'silent' })) : undefined;
    if (shared && !(await shared.whenReady(5000))) throw new Error('redis-server did not accept the connection');
    const sink = shared ?? local.log;
    const reader: RequestReader = shared ?? local.reader;
    const writeMs = await timed(async () => {
      for (let i = 0; i < ROWS; i += BATCH) {
        for (let j = i; j < Math.min(ROWS, i + BATCH); j++) sink.append(row(j));
        await sink.flush();
      }
    });
    const readMs = await timed(() => reader.read({ limit: READ_ROWS }));
    const scanMs = await timed(() => reader.read({ model: 'none', limit: 10 }));
    const bytesPerRow = shared ? `${((await measureStream(redis.url, 'bench:requests')) / ROWS).toFixed(0)} B` : '–';
    console.log(`| ${kind} | ${writeMs.toFixed(0)} ms | ${((writeMs * 1000) / ROWS).toFixed(1)} µs | ${readMs.toFixed(0)} ms | ${scanMs.toFixed(0)} ms | ${bytesPerRow} |`);
    await shared?.close();
    local.log.close();
  }
} finally {
  redis.stop();
}
