import type { Statement } from 'better-sqlite3';
import { BatchBuffer } from './batch-buffer.js';
import type { Db } from './database.js';

/** One row of the request log, as written and as read back (times in ms, `ts` in Unix ms). */
export interface RequestLogEntry {
  ts: number;
  requestId: string;
  /** The name of the caller's API key (never the key itself), whenever it was identified, refusals and cache hits included; null until API keys exist. */
  callerKey: string | null;
  route: string;
  model: string;
  target: string | null;
  status: number;
  latencyMs: number;
  ttftMs: number | null;
  interTokenMs: number | null;
  overheadMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  /** Null until model prices exist. */
  cost: number | null;
  /**
   * "hit", "miss", "bypass" (not cacheable, the cache is off, or the client skipped the lookup with
   * `Cache-Control: no-cache`), or null when the request was refused before the cache was consulted.
   */
  cacheStatus: string | null;
  retries: number;
  fallbacks: number;
  /** How the target was chosen, in words (policy, candidates, attempt). */
  decision: string | null;
}

export interface StoredRequest extends RequestLogEntry {
  id: number;
}

/** The ids one `RequestLog.write` gave its rows: consecutive, from `first` to `last`. */
export interface WrittenRows {
  first: number;
  last: number;
}

export interface RequestLogOptions {
  flushIntervalMs: number;
  /** A batch this large is written at once instead of waiting for the timer. */
  batchRows: number;
  retentionDays: number;
  maxRows: number;
  now?: () => number;
}

const COLUMNS = [
  ['ts', 'ts'], ['request_id', 'requestId'], ['caller_key', 'callerKey'], ['route', 'route'], ['model', 'model'], ['target', 'target'],
  ['status', 'status'], ['latency_ms', 'latencyMs'], ['ttft_ms', 'ttftMs'], ['inter_token_ms', 'interTokenMs'], ['overhead_ms', 'overheadMs'],
  ['prompt_tokens', 'promptTokens'], ['completion_tokens', 'completionTokens'], ['cached_tokens', 'cachedTokens'], ['cost', 'cost'],
  ['cache_status', 'cacheStatus'], ['retries', 'retries'], ['fallbacks', 'fallbacks'], ['decision', 'decision'],
] as const;

/** The fields of a row in a fixed order (for compact encodings of it). */
export const ENTRY_FIELDS: ReadonlyArray<keyof RequestLogEntry> = COLUMNS.map(([, field]) => field);

const SELECT_COLUMNS = ['id', ...COLUMNS.map(([column, field]) => `${column} AS ${field}`)].join(', ');
export const DAY_MS = 86_400_000;
/** Rows one read over HTTP (/admin/requests) returns at most, the newest first. */
export const MAX_READ_ROWS = 10_000;
/** Retention is enforced every this many flushes: deleting is cheap, but not free. */
export const PRUNE_EVERY_FLUSHES = 30;

/**
 * Buffers request-log rows in memory and writes them in one transaction per batch (every
 * `flushIntervalMs`, or at once when `batchRows` are waiting), so a request costs one array push.
 */
export class RequestLog {
  private readonly buffer: BatchBuffer<RequestLogEntry>;
  private readonly insertBatch: (rows: RequestLogEntry[]) => WrittenRows;
  private readonly deleteOlderThan: Statement<[number]>;
  private readonly deleteBeyondCap: Statement<[number]>;
  private readonly selectWritten: Statement<[number, number], StoredRequest>;
  private flushes = 0;
  private readonly now: () => number;

  constructor(
    db: Db,
    private readonly options: RequestLogOptions,
  ) {
    this.now = options.now ?? Date.now;
    // Positional parameters: binding by name costs a third more per row.
    const insert = db.prepare(`INSERT INTO request_log (${COLUMNS.map(([c]) => c).join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const values = new Array<unknown>(ENTRY_FIELDS.length);
    // One transaction holds SQLite's write lock throughout, so its rows get consecutive ids even
    // when other processes write to the same file.
    this.insertBatch = db.transaction((rows: RequestLogEntry[]) => {
      let first = 0;
      let last = 0;
      for (const row of rows) {
        for (let i = 0; i < ENTRY_FIELDS.length; i++) values[i] = row[ENTRY_FIELDS[i]!];
        last = Number(insert.run(values).lastInsertRowid);
        first ||= last;
      }
      return { first, last };
    });
    this.deleteOlderThan = db.prepare('DELETE FROM request_log WHERE ts < ?');
    // Ids come from AUTOINCREMENT, so the newest `maxRows` rows are those within `maxRows` of the
    // largest id: found in one B-tree lookup, where an OFFSET would walk up to `maxRows` rows (80 ms
    // at the default cap, every few thousand requests).
    this.deleteBeyondCap = db.prepare('DELETE FROM request_log WHERE id <= (SELECT max(id) FROM request_log) - ?');
    this.selectWritten = db.prepare(`SELECT ${SELECT_COLUMNS} FROM request_log WHERE id BETWEEN ? AND ? ORDER BY id`);
    this.buffer = new BatchBuffer(options.batchRows, options.flushIntervalMs, () => this.flush());
  }

  append(entry: RequestLogEntry): void {
    this.buffer.push(entry);
  }

  /** Writes `rows` at once, as one transaction (the shared log's fallback when Redis is away); says which ids they got. */
  write(rows: readonly RequestLogEntry[]): WrittenRows | undefined {
    return rows.length > 0 ? this.insertBatch(rows as RequestLogEntry[]) : undefined;
  }

  /** The rows of one earlier `write` still kept (retention may have deleted some since). */
  written({ first, last }: WrittenRows): StoredRequest[] {
    return this.selectWritten.all(first, last);
  }

  /** Writes everything buffered; also enforces retention now and then. */
  flush(): void {
    this.write(this.buffer.take());
    if (++this.flushes % PRUNE_EVERY_FLUSHES === 1) this.prune();
  }

  /** Deletes rows older than the retention age, then the oldest beyond the row cap. */
  prune(): void {
    this.deleteOlderThan.run(this.now() - this.options.retentionDays * DAY_MS);
    this.deleteBeyondCap.run(this.options.maxRows);
  }

  close(): void {
    this.buffer.stop();
    this.flush();
  }
}

export interface RequestQuery {
  /** Unix ms: only rows at or after this time. */
  since?: number;
  /** Only rows with a larger id (for following the log). */
  afterId?: number;
  model?: string;
  /** An exact status ("502") or a class ("5xx"). */
  status?: string;
  /** Newest rows first when limited; results are always returned oldest first. */
  limit?: number;
}

/** Rows matching a query, and which log they came from. */
export interface RequestPage {
  rows: StoredRequest[];
  source: 'sqlite' | 'redis';
}

/** What the admin API and the dashboard read: the SQLite log, or the log shared through Redis. */
export interface RequestReader {
  read(query: RequestQuery): Promise<RequestPage>;
}

export function sqliteRequestReader(db: Db): RequestReader {
  return { read: async (query) => ({ rows: queryRequests(db, query), source: 'sqlite' }) };
}

export function queryRequests(db: Db, query: RequestQuery): StoredRequest[] {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (query.since !== undefined) where.push('ts >= ?') && params.push(query.since);
  if (query.afterId !== undefined) where.push('id > ?') && params.push(query.afterId);
  if (query.model !== undefined) where.push('model = ?') && params.push(query.model);
  const statusRange = query.status === undefined ? undefined : parseStatusFilter(query.status);
  if (statusRange) where.push('status BETWEEN ? AND ?') && params.push(...statusRange);
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const limit = query.limit === undefined ? '' : `LIMIT ${Math.max(0, Math.floor(query.limit))}`;
  const rows = db.prepare(`SELECT ${SELECT_COLUMNS} FROM request_log ${filter} ORDER BY id DESC ${limit}`).all(...params) as StoredRequest[];
  return rows.reverse();
}

/** "502" → [502, 502]; "5xx" → [500, 599]; anything else is rejected. */
export function parseStatusFilter(value: string): [number, number] {
  if (/^[1-5]\d\d$/.test(value)) return [Number(value), Number(value)];
  const klass = /^([1-5])xx$/i.exec(value);
  if (klass) return [Number(klass[1]) * 100, Number(klass[1]) * 100 + 99];
  throw new RangeError(`invalid status filter "${value}": use a code like 502 or a class like 5xx`);
}
