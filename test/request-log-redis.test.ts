import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRequestLog } from '../src/state/redis-request-log.js';
import { openDatabase } from '../src/store/database.js';
import { RequestLog, sqliteRequestReader, type StoredRequest } from '../src/store/request-log.js';
import { runCli } from './support/cli.js';
import { startRouter, startSim, stopAll, waitFor, type Proc } from './support/processes.js';
import { monitorRedis, startRedis, type RedisProc } from './support/redis.js';
import { entry } from './support/request-log-entry.js';

const JAN_1 = Date.parse('2026-01-01T10:00:00Z');
const DAY = 86_400_000;
const ask = { messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 4 };

let redis: RedisProc;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await stopAll();
  await redis.stop();
});

describe('the Redis request log', () => {
  let prefixes = 0;
  const open = async (settings: { retentionDays?: number; maxRows?: number; now?: () => number } = {}) => {
    const db = openDatabase(':memory:');
    const options = { flushIntervalMs: 60_000, batchRows: 1000, retentionDays: settings.retentionDays ?? 7, maxRows: settings.maxRows ?? 100, now: settings.now };
    const local = { log: new RequestLog(db, options), reader: sqliteRequestReader(db) };
    const shared = new RedisRequestLog({ ...options, url: redis.url, keyPrefix: `unit${++prefixes}:` }, local, new Registry(), pino({ level: 'silent' }));
    expect(await shared.whenReady(5000)).toBe(true);
    return { shared, local };
  };

  it('writes batches readable with the same filters and row shape as the SQLite log', async () => {
    const { shared, local } = await open({ now: () => JAN_1 });
    const rows = [entry({ requestId: 'a' }), entry({ requestId: 'b', model: 'm2', status: 502, target: null, ttftMs: null }), entry({ requestId: 'c', status: 429 })];
    for (const row of rows) {
      shared.append(row);
      local.log.append(row);
    }
    expect((await shared.read({})).rows).toHaveLength(0);
    await shared.flush();
    local.log.flush();
    const all = await shared.read({});
    expect(all.source).toBe('redis');
    const withoutId = ({ id: _id, ...row }: StoredRequest) => row;
    expect(all.rows.map(withoutId)).toEqual((await local.reader.read({})).rows.map(withoutId));
    const ids = all.rows.map((r) => r.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    expect((await shared.read({ model: 'm2' })).rows.map((r) => r.requestId)).toEqual(['b']);
    expect((await shared.read({ status: '4xx' })).rows.map((r) => r.requestId)).toEqual(['c']);
    expect((await shared.read({ afterId: ids[0], limit: 1 })).rows.map((r) => r.requestId)).toEqual(['c']);
    expect((await shared.read({ limit: 2 })).rows.map((r) => r.requestId)).toEqual(['b', 'c']);
    expect((await shared.read({ since: JAN_1 + 1 })).rows).toHaveLength(0);
    expect((await shared.read({ since: JAN_1 })).rows).toHaveLength(3);
    await expect(shared.read({ status: 'bad' })).rejects.toThrow(RangeError);
    await shared.close();
  });

  it('keeps rows within the retention age and row cap', async () => {
    let now = JAN_1;
    const { shared } = await open({ retentionDays: 2, maxRows: 3, now: () => now });
    for (let day = 0; day < 4; day++) {
      now = JAN_1 + day * DAY + (day === 3 ? 1 : 0);
      shared.append(entry({ ts: now, requestId: `day${day}` }));
      await shared.flush();
    }
    expect((await shared.read({})).rows.map((r) => r.requestId)).toEqual(['day2', 'day3']);
    for (let i = 0; i < 5; i++) shared.append(entry({ ts: now, requestId: `new${i}` }));
    await shared.flush();
    expect((await shared.read({})).rows.map((r) => r.requestId)).toEqual(['new2', 'new3', 'new4']);
    await shared.close();
  });

  it('reads past more than one page of non-matching rows', async () => {
    const { shared } = await open({ maxRows: 5000 });
    shared.append(entry({ requestId: 'wanted', model: 'rare' }));
    for (let i = 0; i < 2500; i++) shared.append(entry({ requestId: `other${i}` }));
    await shared.flush();
    expect((await shared.read({ model: 'rare', limit: 10 })).rows.map((r) => r.requestId)).toEqual(['wanted']);
    expect((await shared.read({ limit: 2400 })).rows.at(0)?.requestId).toBe('other100');
    await shared.close();
  });
});

describe('the Redis request log after an outage', () => {
  let own: RedisProc;
  const logs: RedisRequestLog[] = [];
  beforeAll(async () => {
    own = await startRedis();
  });
  afterAll(async () => {
    for (const log of logs) await log.close();
    await own.stop();
  });

  /** A log on `own` Redis whose local fallback is the SQLite file `file` (shared by instances that name the same one). */
  const open = async (file: string, keyPrefix: string) => {
    const db = openDatabase(file);
    const options = { flushIntervalMs: 60_000, batchRows: 1000, retentionDays: 7, maxRows: 1000 };
    const shared = new RedisRequestLog({ ...options, url: own.url, keyPrefix }, { log: new RequestLog(db, options), reader: sqliteRequestReader(db) }, new Registry(), pino({ level: 'silent' }));
    logs.push(shared);
    expect(await shared.whenReady(5000)).toBe(true);
    return shared;
  };
  const sharedIds = async (log: RedisRequestLog) => {
    const page = await log.read({});
    return page.source === 'redis' ? page.rows.map((r) => r.requestId).sort() : undefined;
  };

  it("copies back only this instance's own rows when instances share one SQLite file", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db');
    const [a, b] = [await open(file, 'shared-file:'), await open(file, 'shared-file:')];
    await own.stop();
    await waitFor(async () => (await a.read({})).source === 'sqlite' && (await b.read({})).source === 'sqlite', 'both to notice the outage');
    a.append(entry({ requestId: 'a1' }));
    a.append(entry({ requestId: 'a2' }));
    await a.flush();
    b.append(entry({ requestId: 'b1' }));
    await b.flush();
    own = await startRedis(own.port);
    await waitFor(async () => (await sharedIds(a))?.length === 3, 'the rows copied back');
    await new Promise((r) => setTimeout(r, 300));
    expect(await sharedIds(b)).toEqual(['a1', 'a2', 'b1']);
  });

  it('writes a flush that timed out while Redis was only slow once, whether or not Redis ran it', async () => {
    const log = await open(':memory:', 'slow:');
    const admin = new Redis(own.url);
    // Writes wait 2.5 s: longer than a flush's 2 s timeout, after which Redis runs the append after all.
    await admin.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    log.append(entry({ requestId: 'slow' }));
    await log.flush();
    expect((await log.read({})).rows.map((r) => r.requestId)).toEqual(['slow']);
    // The connection drops and comes back: what was written locally is copied (or found already there).
    await new Promise((r) => setTimeout(r, 700));
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await waitFor(async () => (await sharedIds(log))?.includes('slow'), 'the row in the shared log');
    log.append(entry({ requestId: 'next' }));
    await log.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(await sharedIds(log)).toEqual(['next', 'slow']);
    admin.disconnect();
  });

  it('sends a hung Redis one append per command timeout, then writes locally for a while and reads locally until an append succeeds', async () => {
    const log = await open(':memory:', 'hung:');
    log.append(entry({ requestId: 'before' }));
    // Loads the append script: from now on each append is one EVALSHA (a read, one EVAL or EVALSHA).
    await log.flush();
    const monitor = await monitorRedis(own.port);
    own.pause();
    try {
      // The second flush, asked for while the first is out, follows it: it finds Redis failed (timed out) and goes local.
      log.append(entry({ requestId: 'h1' }));
      const first = log.flush();
      log.append(entry({ requestId: 'h2' }));
      await Promise.all([first, log.flush()]);
      const page = await log.read({});
      expect(page.source).toBe('sqlite');
      expect(page.rows.map((r) => r.requestId)).toEqual(['h1', 'h2']);
      // Past the rest, reads still answer locally until a flush finds Redis answering again.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await log.read({})).source).toBe('sqlite');
    } finally {
      own.resume();
    }
    // Redis runs what it was sent while hung before the command of a client that connects after it resumed.
    const marker = new Redis(own.url);
    await marker.echo('resumed');
    await waitFor(() => monitor.commands.some(([name, word]) => name === 'echo' && word === 'resumed'), 'the marker in the monitor');
    const sentWhileHung = monitor.commands.slice(0, monitor.commands.findIndex(([name]) => name === 'echo'));
    expect(sentWhileHung.filter(([name]) => name === 'evalsha' || name === 'eval')).toHaveLength(1);
    await log.flush();
    expect((await log.read({})).source).toBe('redis');
    marker.disconnect();
    monitor.close();
  });
});

describe('two router instances sharing one Redis request log', () => {
  const MAX_ROWS = 12;
  let routers: Proc[];
  const dbs = [0, 1].map(() => join(mkdtempSync(join(tmpdir(), 'switchyard-db-')), 'models.db'));

  const send = async (router: Proc, id: string) => {
    const response = await fetch(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: 'm1', ...ask }),
    });
    await response.text();
    return response.status;
  };
  const logged = async (router: Proc, query = '') => {
    const response = await fetch(`${router.url}/admin/requests${query}`);
    return { source: response.headers.get('x-switchyard-request-log'), ids: ((await response.json()) as { data: StoredRequest[] }).data.map((r) => r.requestId) };
  };

  beforeAll(async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 1 });
    const config = { services: [{ name: 'sim', url: sim.url }], request_log: { flush_interval_ms: 50, max_rows: MAX_ROWS } };
    routers = await Promise.all(dbs.map((db) => startRouter(config, { SQLITE_DB_PATH: db, REDIS_URL: redis.url })));
  });

  it('shows the requests through both instances in /admin/requests of either', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await send(routers[0]!, `first-${i}`)).toBe(200);
      expect(await send(routers[1]!, `second-${i}`)).toBe(200);
    }
    const expected = ['first-0', 'second-0', 'first-1', 'second-1', 'first-2', 'second-2'];
    for (const router of routers) {
      const { source, ids } = await waitFor(async () => {
        const seen = await logged(router);
        return seen.ids.length === expected.length ? seen : undefined;
      }, 'both instances’ rows');
      expect(source).toBe('redis');
      expect([...ids].sort()).toEqual([...expected].sort());
    }
    // The cursor `logs tail` follows with: rows after a given id, from both instances, in order.
    const rows = ((await (await fetch(`${routers[0]!.url}/admin/requests`)).json()) as { data: StoredRequest[] }).data;
    const after = ((await (await fetch(`${routers[1]!.url}/admin/requests?after_id=${rows[2]!.id}`)).json()) as { data: StoredRequest[] }).data;
    expect(after.map((r) => r.requestId)).toEqual(rows.slice(3).map((r) => r.requestId));
  });

  it('counts both instances’ traffic in `switchyard logs analyze --url` on one', async () => {
    const result = await runCli(['logs', 'analyze', '--last', '1h', '--url', routers[1]!.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^m1\s+sim\s+6\s+0\s+0\.0%/m);
  });

  it('keeps no more rows than request_log.max_rows across instances', async () => {
    for (let i = 0; i < 10; i++) expect(await send(routers[i % 2]!, `more-${i}`)).toBe(200);
    const { ids } = await waitFor(async () => {
      const seen = await logged(routers[0]!);
      return seen.ids.includes('more-8') && seen.ids.includes('more-9') ? seen : undefined;
    }, 'the newest rows');
    expect(ids).toHaveLength(MAX_ROWS);
    expect(ids).not.toContain('first-0');
  });

  it('answers and logs locally while Redis is down', async () => {
    await redis.stop();
    for (let i = 0; i < 4; i++) expect(await send(routers[i % 2]!, `offline-${i}`)).toBe(200);
    for (const [index, router] of routers.entries()) {
      const mine = [0, 1, 2, 3].filter((i) => i % 2 === index).map((i) => `offline-${i}`);
      const { source, ids } = await waitFor(async () => {
        const seen = await logged(router, '?model=m1');
        return mine.every((id) => seen.ids.includes(id)) ? seen : undefined;
      }, 'the rows in the local log');
      expect(source).toBe('sqlite');
      expect(ids).toEqual(mine);
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      expect(Number(/^switchyard_request_log_local_rows_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      // The router's log comes through a pipe of its own, which may trail its answers.
      const outageLines = () => router.lines.filter((line) => line.includes('shared request log unavailable'));
      await waitFor(() => outageLines().length > 0, 'the outage logged');
      expect(outageLines()).toHaveLength(1);
    }
    const local = await runCli(['logs', 'analyze', '--last', '1h', '--db', dbs[0]!]);
    expect(local.stdout).toMatch(/^m1\s+sim\s+2\s+0\s+0\.0%/m);
  });

  it('copies the rows logged locally into the shared log when Redis is back', async () => {
    redis = await startRedis(redis.port);
    const offline = ['offline-0', 'offline-1', 'offline-2', 'offline-3'];
    for (const router of routers) {
      const { source, ids } = await waitFor(async () => {
        const seen = await logged(router);
        return seen.source === 'redis' && offline.every((id) => seen.ids.includes(id)) ? seen : undefined;
      }, 'the offline rows in the shared log');
      expect(source).toBe('redis');
      expect([...ids].sort()).toEqual(offline);
    }
    expect(await send(routers[0]!, 'after-recovery')).toBe(200);
    await waitFor(async () => (await logged(routers[1]!)).ids.includes('after-recovery'), 'a new row through the other instance');
    expect((await logged(routers[1]!, '?model=m1')).ids.filter((id) => id.startsWith('offline-'))).toHaveLength(4);
  });
});
