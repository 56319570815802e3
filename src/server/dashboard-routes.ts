import type { FastifyInstance } from 'fastify';
import { fleetStats } from '../observability/fleet-snapshot.js';
import { requireAdmin } from './admin-auth.js';
import type { AdminParts } from './admin-routes.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

const RECENT_REQUESTS = 50;
const STARTED_AT = new Date(performance.timeOrigin).toISOString();

/** `GET /ui` (the page) and `GET /ui/state` (everything it shows, polled every second). */
export function registerDashboardRoutes(app: FastifyInstance, { fleet, metrics, history, requests, adminToken, keysRequired, describeTarget }: AdminParts): void {
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
