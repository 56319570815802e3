import type { FastifyInstance } from 'fastify';
import type { Fleet } from '../fleet/fleet.js';
import { fleetStats } from '../observability/fleet-snapshot.js';
import type { Metrics } from '../observability/metrics.js';
import type { Db } from '../store/database.js';
import { queryRequests, type RequestQuery } from '../store/request-log.js';
import { requireAdmin } from './admin-auth.js';
import { ApiError, badRequest } from './errors.js';

const MAX_ROWS = 10_000;

export interface AdminParts {
  fleet: Fleet;
  metrics: Metrics;
  /** Absent when the request log is disabled. */
  db: Db | undefined;
  adminToken: string | undefined;
}

/** Reads the request log with a query string's filters; the CLI's `--url` mode and the dashboard use it. */
export function requestsFromQuery(db: Db | undefined, query: Record<string, unknown>, defaultLimit: number) {
  if (!db) throw new ApiError(404, 'The request log is disabled on this router (request_log.enabled: false)', 'invalid_request_error', 'request_log_disabled');
  const number = (name: string): number | undefined => {
    const raw = query[name];
    if (raw === undefined || raw === '') return undefined;
    const value = typeof raw === 'string' && !/^\d+$/.test(raw) ? Date.parse(raw) : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw badRequest(`Invalid '${name}': expected a non-negative integer${name === 'since' ? ' (Unix ms) or an ISO date' : ''}`, name);
    return value;
  };
  const filter: RequestQuery = {
    since: number('since'),
    afterId: number('after_id'),
    model: typeof query.model === 'string' && query.model ? query.model : undefined,
    status: typeof query.status === 'string' && query.status ? query.status : undefined,
    limit: Math.min(number('limit') ?? defaultLimit, MAX_ROWS),
  };
  try {
    return queryRequests(db, filter);
  } catch (error) {
    if (error instanceof RangeError) throw badRequest(error.message, 'status');
    throw error;
  }
}

export function registerAdminRoutes(app: FastifyInstance, { fleet, metrics, db, adminToken }: AdminParts): void {
  const preHandler = requireAdmin(adminToken);
  app.get('/admin/requests', { preHandler }, async (request) => ({ data: requestsFromQuery(db, request.query as Record<string, unknown>, MAX_ROWS) }));
  app.get('/admin/fleet', { preHandler }, async () => ({ ...fleetStats(fleet), activity: metrics.activity }));
}
