import { existsSync } from 'node:fs';
import type { FleetStats } from '../observability/fleet-snapshot.js';
import type { Activity } from '../observability/metrics.js';
import { openDatabaseForReading } from '../store/database.js';
import { queryRequests, type RequestQuery, type StoredRequest } from '../store/request-log.js';
import { askRouter } from './router-client.js';

/** Where the debugging commands read from: a running router (`--url`) or the SQLite file it writes. */
export interface SourceOptions {
  url?: string;
  db: string;
  token?: string;
}

export function openRequestReader(source: SourceOptions): { read(query: RequestQuery): Promise<StoredRequest[]>; close(): void } {
  if (source.url) {
    const base = source.url.replace(/\/+$/, '');
    return {
      async read(query) {
        const params = new URLSearchParams();
        for (const [name, value] of Object.entries({ since: query.since, after_id: query.afterId, model: query.model, status: query.status, limit: query.limit })) {
          if (value !== undefined) params.set(name, String(value));
        }
        return (await askRouter<{ data: StoredRequest[] }>(`${base}/admin/requests?${params}`, source.token, (body) => Array.isArray(body.data))).data;
      },
      close() {},
    };
  }
  if (!existsSync(source.db)) throw new Error(`no request log at ${source.db}: point --db (or SQLITE_DB_PATH) at the router's database, or use --url`);
  const { db, close } = openDatabaseForReading(source.db);
  return { read: async (query) => queryRequests(db, query), close };
}

export type FleetView = Omit<FleetStats, 'services'> & { services: Array<FleetStats['services'][number] & { cooldown?: { state: string } }>; activity: Activity };

export function fetchFleet(url: string, token: string | undefined): Promise<FleetView> {
  return askRouter(`${url.replace(/\/+$/, '')}/admin/fleet`, token, (body) => Array.isArray(body.services) && typeof body.activity === 'object');
}
