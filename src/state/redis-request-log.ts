import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { BatchBuffer } from '../store/batch-buffer.js';
import {
  DAY_MS, ENTRY_FIELDS, parseStatusFilter, PRUNE_EVERY_FLUSHES, type RequestLog, type RequestLogEntry, type RequestPage, type RequestQuery, type RequestReader,
  type StoredRequest,
} from '../store/request-log.js';
import { failFastOptions, OutageNotice, whenReady } from './redis-connection.js';
import { APPEND_REQUESTS, READ_REQUESTS } from './redis-scripts.js';

export interface RedisRequestLogOptions {
  url: string;
  keyPrefix: string;
  flushIntervalMs: number;
  batchRows: number;
  retentionDays: number;
  maxRows: number;
  now?: () => number;
}

type Scripted = Redis & {
  appendRequests(...args: Array<string | number>): Promise<number>;
  readRequests(...args: Array<string | number>): Promise<[number, string | null, ...string[]]>;
};

const STREAM = 'requests';
const LAST_ID = 'requests:last-id';
/** Entries scanned per read call: short enough never to hold Redis up noticeably. */
const SCAN_ROWS = 500;
/**
 * A flush carries up to a batch of rows and a read up to a page of them: longer than the hot
 * path's command timeout, and harmless, since nothing waits on either but the log itself.
 */
const COMMAND_TIMEOUT_MS = 2000;

/**
 * The request log shared by every instance on one Redis, as a stream. Rows are buffered like the
 * SQLite log's and written by one script call per flush (one round trip, on a connection of its
 * own so that a large batch never delays the hot path's commands). While Redis is unreachable, rows
 * go to this instance's SQLite log instead (one warning, and a metric counts them) and reads answer
 * from it, so logging never blocks or fails a request; when Redis is back, those rows are copied to it.
 */
export class RedisRequestLog implements RequestReader {
  private readonly client: Scripted;
  private readonly buffer: BatchBuffer<RequestLogEntry>;
  private readonly localRows: Counter;
  private readonly now: () => number;
  private flushes = 0;
  private readonly outage: OutageNotice;
  /** Set while rows written locally during an outage wait to be copied to Redis: the local id before the first. */
  private replayAfter: number | undefined;

  constructor(
    private readonly options: RedisRequestLogOptions,
    private readonly local: { log: RequestLog; reader: RequestReader },
    registry: Registry,
    log: Logger,
  ) {
    this.now = options.now ?? Date.now;
    this.outage = new OutageNotice(log, options.url, { lost: 'shared request log unavailable: writing rows to the local SQLite log until Redis is back', back: 'shared request log reachable again' });
    this.client = new Redis(options.url, { ...failFastOptions(COMMAND_TIMEOUT_MS), keyPrefix: options.keyPrefix }) as Scripted;
    this.client.defineCommand('appendRequests', { numberOfKeys: 2, lua: APPEND_REQUESTS });
    this.client.defineCommand('readRequests', { numberOfKeys: 1, lua: READ_REQUESTS });
    this.client.on('error', (error: Error) => this.outage.lost(error));
    this.client.on('ready', () => void this.restored());
    this.buffer = new BatchBuffer(options.batchRows, options.flushIntervalMs, () => void this.flush());
    this.localRows = new Counter({
      name: 'switchyard_request_log_local_rows_total',
      help: 'Request-log rows written to the local SQLite log because the shared Redis log was unreachable',
      registers: [registry],
    });
  }

  append(entry: RequestLogEntry): void {
    this.buffer.push(entry);
  }

  /** Writes everything buffered to Redis (or, failing that, locally); retention is applied with every write. */
  async flush(): Promise<void> {
    const rows = this.buffer.take();
    if (rows.length === 0 && ++this.flushes % PRUNE_EVERY_FLUSHES !== 1) return;
    if (this.client.status !== 'ready') return this.writeLocally(rows);
    try {
      await this.send(rows);
    } catch (error) {
      this.outage.lost(error as Error);
      this.writeLocally(rows);
    }
  }

  async read(query: RequestQuery): Promise<RequestPage> {
    const statusRange = query.status === undefined ? ANY_STATUS : parseStatusFilter(query.status);
    if (this.client.status !== 'ready') return this.local.reader.read(query);
    try {
      return { rows: await this.readShared(query, statusRange), source: 'redis' };
    } catch (error) {
      this.outage.lost(error as Error);
      return this.local.reader.read(query);
    }
  }

  whenReady(timeoutMs: number): Promise<boolean> {
    return whenReady(this.client, timeoutMs);
  }

  async close(): Promise<void> {
    this.buffer.stop();
    await this.flush();
    this.client.disconnect();
  }

  /** Newest first, filtered in Redis a bounded scan at a time, until `limit` rows match or the id range (from `after_id` and `since`) is exhausted. */
  private async readShared(query: RequestQuery, [lowStatus, highStatus]: readonly [number, number]): Promise<StoredRequest[]> {
    const limit = query.limit ?? Infinity;
    const lowest = streamId(Math.max((query.afterId ?? -1) + 1, (query.since ?? 0) * 1000));
    const rows: StoredRequest[] = [];
    let highest = '+';
    while (rows.length < limit) {
      const wanted = Math.min(limit - rows.length, SCAN_ROWS);
      const [scanned, last, ...matches] = await this.client.readRequests(STREAM, highest, lowest, SCAN_ROWS, query.since ?? 0, query.model ?? '', lowStatus, highStatus, wanted);
      for (let i = 0; i < matches.length; i += 2) rows.push(decodeRow(idNumber(matches[i]!), matches[i + 1]!));
      if (scanned < SCAN_ROWS || last === null) break;
      highest = streamId(idNumber(last) - 1);
    }
    return rows.reverse();
  }

  /** Appends `rows` (possibly none) and applies retention, in one script call. */
  private async send(rows: readonly RequestLogEntry[]): Promise<void> {
    const now = this.now();
    const encoded = rows.flatMap((row) => [row.ts, row.model, row.status, JSON.stringify(ENTRY_FIELDS.map((field) => row[field]))]);
    await this.client.appendRequests(STREAM, LAST_ID, now, now - this.options.retentionDays * DAY_MS, this.options.maxRows, ...encoded);
  }

  private writeLocally(rows: RequestLogEntry[]): void {
    if (rows.length === 0) return;
    this.replayAfter ??= this.local.log.lastId();
    this.local.log.write(rows);
    this.localRows.inc(rows.length);
  }

  /** Back after an outage: the rows this instance logged alone join the shared log, a batch per call, oldest first. */
  private async restored(): Promise<void> {
    try {
      while (this.replayAfter !== undefined) {
        const { rows } = await this.local.reader.read({ afterId: this.replayAfter });
        for (let start = 0; start < rows.length; start += this.options.batchRows) {
          const batch = rows.slice(start, start + this.options.batchRows);
          await this.send(batch.map(({ id: _localId, ...entry }) => entry));
          this.replayAfter = batch.at(-1)!.id;
        }
        if (rows.length === 0) this.replayAfter = undefined;
      }
      this.outage.back();
    } catch (error) {
      this.outage.lost(error as Error);
    }
  }
}

const ANY_STATUS = [0, 999] as const;

/** Ids beyond what a double holds exactly select nothing rather than a wrong range. */
function streamId(n: number): string {
  return `${Math.max(0, Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER))}-0`;
}

/** A row stored as its values in `ENTRY_FIELDS` order: half the memory of an object with its keys. */
function decodeRow(id: number, values: string): StoredRequest {
  const decoded = JSON.parse(values) as unknown[];
  const row: Record<string, unknown> = { id };
  ENTRY_FIELDS.forEach((field, index) => (row[field] = decoded[index]));
  return row as unknown as StoredRequest;
}

function idNumber(streamEntryId: string): number {
  return Number(streamEntryId.slice(0, streamEntryId.indexOf('-')));
}
