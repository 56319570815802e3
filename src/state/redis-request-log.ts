import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { BatchBuffer } from '../store/batch-buffer.js';
import {
  DAY_MS, ENTRY_FIELDS, parseStatusFilter, PRUNE_EVERY_FLUSHES, type RequestLog, type RequestLogEntry, type RequestPage, type RequestQuery, type RequestReader,
  type StoredRequest, type WrittenRows,
} from '../store/request-log.js';
import { failFastOptions, FailureRest, OutageNotice, whenReady } from './redis-connection.js';
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
const APPENDED = 'requests:appended:';
/**
 * How long an append's token is remembered: longer than any wait between a timed-out append and
 * its copy (made at the next successful flush or reconnection).
 */
const APPENDED_MARKER_MS = 10 * 60_000;
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
  /**
   * After a failed command: flushes write locally while it rests, and reads (the admin API, the
   * dashboard) until an append succeeds, so that a Redis that hangs costs them one command timeout,
   * not one per rest; the flushes, which no client waits for, find out when it answers again.
   */
  private readonly rest = new FailureRest();
  /** The write out now, and the one asked for meanwhile (it follows, with every row buffered by then). */
  private writing: Promise<void> | undefined;
  private following: Promise<void> | undefined;
  /**
   * This instance's own rows that went to SQLite instead of Redis, a local write each, waiting to
   * be copied: tracked by their ids rather than read back from an id onwards, because other
   * instances may write to the same SQLite file. Each keeps the token of the append that failed,
   * which may have run in Redis all the same (it timed out), so that the copy is then skipped.
   */
  private readonly uncopied: Array<{ rows: WrittenRows; token: string }> = [];
  private copying = false;
  /** Append tokens: this instance's id and a count. */
  private readonly instanceId = randomUUID();
  private appends = 0;

  constructor(
    private readonly options: RedisRequestLogOptions,
    private readonly local: { log: RequestLog; reader: RequestReader },
    registry: Registry,
    log: Logger,
  ) {
    this.now = options.now ?? Date.now;
    this.outage = new OutageNotice(log, options.url, { lost: 'shared request log unavailable: writing rows to the local SQLite log until Redis is back', back: 'shared request log reachable again' });
    this.client = new Redis(options.url, { ...failFastOptions(COMMAND_TIMEOUT_MS), keyPrefix: options.keyPrefix }) as Scripted;
    this.client.defineCommand('appendRequests', { numberOfKeys: 3, lua: APPEND_REQUESTS });
    this.client.defineCommand('readRequests', { numberOfKeys: 1, lua: READ_REQUESTS });
    this.client.on('error', (error: Error) => this.outage.lost(error));
    this.client.on('ready', () => void this.copyLocalRows());
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

  /**
   * Writes everything buffered to Redis (or, failing that, locally); retention is applied with every
   * write. One write is out at a time: a Redis that does not answer is sent one batch per command
   * timeout and rest, not every batch made meanwhile, each held in the client until Redis answers.
   */
  flush(): Promise<void> {
    if (this.writing) {
      const next = () => {
        this.following = undefined;
        return this.flush();
      };
      return (this.following ??= this.writing.then(next, next));
    }
    this.writing = this.write().finally(() => (this.writing = undefined));
    return this.writing;
  }

  async read(query: RequestQuery): Promise<RequestPage> {
    const statusRange = query.status === undefined ? ANY_STATUS : parseStatusFilter(query.status);
    if (!this.shared || this.rest.failing) return this.local.reader.read(query);
    try {
      return { rows: await this.readShared(query, statusRange), source: 'redis' };
    } catch (error) {
      this.failed(error as Error);
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

  /** Connected, and not resting after a failed command. */
  private get shared(): boolean {
    return this.client.status === 'ready' && !this.rest.resting;
  }

  private failed(error: Error): void {
    this.outage.lost(error);
    this.rest.begin();
  }

  private async write(): Promise<void> {
    const rows = this.buffer.take();
    // While failing, even an empty flush tries Redis: it is what tells the reads that Redis answers again.
    if (rows.length === 0 && !this.rest.failing && ++this.flushes % PRUNE_EVERY_FLUSHES !== 1) return;
    const token = `${this.instanceId}:${++this.appends}`;
    if (!this.shared) return this.writeLocally(rows, token);
    try {
      await this.send(rows, token);
    } catch (error) {
      this.failed(error as Error);
      return this.writeLocally(rows, token);
    }
    // Redis answers again without having reconnected (it was only slow): copy what timed out now.
    if (this.uncopied.length > 0) await this.copyLocalRows();
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

  /** Appends `rows` (possibly none) and applies retention, in one script call; nothing if `token` was appended before. */
  private async send(rows: readonly RequestLogEntry[], token: string): Promise<void> {
    const now = this.now();
    const encoded = rows.flatMap((row) => [row.ts, row.model, row.status, JSON.stringify(ENTRY_FIELDS.map((field) => row[field]))]);
    await this.client.appendRequests(STREAM, LAST_ID, APPENDED + token, now, now - this.options.retentionDays * DAY_MS, this.options.maxRows, APPENDED_MARKER_MS, ...encoded);
    this.rest.end();
  }

  private writeLocally(rows: RequestLogEntry[], token: string): void {
    const written = this.local.log.write(rows);
    if (!written) return;
    this.uncopied.push({ rows: written, token });
    this.localRows.inc(rows.length);
  }

  /**
   * Redis is back: the rows this instance logged alone join the shared log, oldest first, each
   * local write as the one call it would have been (with its token, so that one which ran in
   * Redis after all is not appended twice).
   */
  private async copyLocalRows(): Promise<void> {
    if (this.copying) return;
    this.copying = true;
    try {
      while (this.uncopied.length > 0) {
        const { rows, token } = this.uncopied[0]!;
        await this.send(this.local.log.written(rows).map(({ id: _localId, ...entry }) => entry), token);
        this.uncopied.shift();
      }
      this.outage.back();
    } catch (error) {
      this.failed(error as Error);
    } finally {
      this.copying = false;
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
