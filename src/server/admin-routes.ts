import type { FastifyInstance } from 'fastify';
import type { Fleet } from '../fleet/fleet.js';
import { fleetStats } from '../observability/fleet-snapshot.js';
import type { FleetHistory } from '../observability/fleet-history.js';
import type { Metrics } from '../observability/metrics.js';
import { MAX_READ_ROWS, type RequestPage, type RequestQuery, type RequestReader } from '../store/request-log.js';
import { requireAdmin } from './admin-auth.js';
import { ApiError, badRequest } from './errors.js';

/** What the admin routes and the dashboard read. */
export interface AdminParts {
  fleet: Fleet;
  metrics: Metrics;
  history: FleetHistory;
  /** Absent when the request log is disabled. */
  requests: RequestReader | undefined;
  adminToken: string | undefined;
  keysRequired: () => boolean;
  /** Per-target fields owned elsewhere (the cooldown state), as /stats shows them. */
  describeTarget: (name: string) => { cooldown: { state: string; until: string | null } };
}

/** Reads the request log with a query string's filters; the CLI's `--url` mode and the dashboard use it. */
export async function requestsFromQuery(requests: RequestReader | undefined, query: Record<string, unknown>, defaultLimit: number): Promise<RequestPage> {
  if (!requests) throw new ApiError(404, 'The request log is disabled on this router (request_log.enabled: false)', 'invalid_request_error', 'request_log_disabled');
  const number = (name: string): number | undefined => {
    const raw = query[name];
    if (raw === undefined || raw === '') return undefined;
    const text = String(raw);
    // Only `since` takes a date; Date.parse reads "2.5" or "-1" as dates, so only a full ISO date goes to it.
    const value = /^\d+$/.test(text) ? Number(text) : name === 'since' && /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
    if (!Number.isFinite(value)) throw badRequest(`Invalid '${name}': expected a non-negative integer${name === 'since' ? ' (Unix ms) or an ISO date' : ''}`, name);
    return value;
  };
  const filter: RequestQuery = {
    since: number('since'),
    afterId: number('after_id'),
    model: typeof query.model === 'string' && query.model ? query.model : undefined,
    status: typeof query.status === 'string' && query.status ? query.status : undefined,
    limit: Math.min(number('limit') ?? defaultLimit, MAX_READ_ROWS),
  };
  try {
    return await requests.read(filter);
  } catch (error) {
    if (error instanceof RangeError) throw badRequest(error.message, 'status');
    throw error;
  }
}

/** Says which log answered: `redis` (shared by every instance) or `sqlite` (this instance's own). */
export const REQUEST_LOG_HEADER = 'x-switchyard-request-log';

export function registerAdminRoutes(app: FastifyInstance, { fleet, metrics, history, requests, adminToken, keysRequired, describeTarget }: AdminParts): void {
  const preHandler = requireAdmin(adminToken, { withoutToken: 'open', keysRequired });
  app.get('/admin/requests', { preHandler }, async (request, reply) => {
    const page = await requestsFromQuery(requests, request.query as Record<string, unknown>, MAX_READ_ROWS);
    reply.header(REQUEST_LOG_HEADER, page.source);
    return { data: page.rows };
  });
  app.get('/admin/fleet', { preHandler }, async () => {
    const stats = fleetStats(fleet, history);
    return { ...stats, services: stats.services.map((service) => ({ ...service, ...describeTarget(service.name) })), activity: metrics.activity };
  });
}
