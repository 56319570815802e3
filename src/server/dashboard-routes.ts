import type { FastifyInstance } from 'fastify';
import type { Fleet } from '../fleet/fleet.js';
import { fleetStats } from '../observability/fleet-snapshot.js';
import type { FleetHistory } from '../observability/fleet-history.js';
import type { Metrics } from '../observability/metrics.js';
import type { RequestReader } from '../store/request-log.js';
import { requireAdmin } from './admin-auth.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

const RECENT_REQUESTS = 50;
const STARTED_AT = new Date(performance.timeOrigin).toISOString();

export interface DashboardParts {
  fleet: Fleet;
  metrics: Metrics;
  history: FleetHistory;
  requests: RequestReader | undefined;
  adminToken: string | undefined;
  keysRequired: () => boolean;
  /** Per-target fields owned elsewhere (the cooldown state), as /stats shows them. */
  describeTarget: (name: string) => { cooldown: { state: string; until: string | null } };
}

/** `GET /ui` (the page) and `GET /ui/state` (everything it shows, polled every second). */
export function registerDashboardRoutes(app: FastifyInstance, { fleet, metrics, history, requests, adminToken, keysRequired, describeTarget }: DashboardParts): void {
  const preHandler = requireAdmin(adminToken, { withoutToken: 'open', queryToken: true, keysRequired });
  app.get('/ui', { preHandler }, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML));
  app.get('/ui/state', { preHandler }, async () => {
    const stats = fleetStats(fleet, history);
    return {
      generated_at: new Date().toISOString(),
      // The activity counters and request totals are this process's, since it started.
      started_at: STARTED_AT,
      total_services: stats.total_services,
      healthy_services: stats.healthy_services,
      targets: stats.services.map((s) => ({ ...s, ...describeTarget(s.name), history: history.of(s.name) })),
      recent: requests ? (await requests.read({ limit: RECENT_REQUESTS })).rows : [],
      activity: metrics.activity,
    };
  });
}
