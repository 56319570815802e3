import type { FastifyInstance } from 'fastify';
import type { Endpoint } from '../gateway/inference-request.js';
import { resolveModel, type RouteSources } from '../gateway/resolve.js';
import { effectiveLoad } from '../routing/load.js';
import type { PolicyTable } from '../routing/policy-table.js';
import type { RouteGuard } from './admin-auth.js';
import { validateInference } from './validate.js';

/**
 * `POST /route/explain` with a chat (`messages`) or completion (`prompt`) body: which replica the
 * request would go to now and why, without sending it or changing any routing state. Headers such
 * as the session header are taken from this request, as they would be from the real one.
 */
export function registerRouteExplain(app: FastifyInstance, routes: RouteSources, routing: PolicyTable, guard: RouteGuard): void {
  app.post('/route/explain', { onRequest: guard }, async (request) => {
    const { model } = validateInference(explainedEndpoint(request.body), request.body);
    const body = request.body as Record<string, unknown>;
    // The same resolution a real request gets: registry, services and agents, then prefix rules.
    const route = resolveModel(model, routes);
    if ('error' in route) throw route.error;
    const candidates = route.backends;
    const choice = routing.explain(candidates, { model, body, headers: request.headers });
    const now = performance.now();
    return {
      model,
      resolution: route.reason,
      policy: choice.policy,
      target: choice.backend.name,
      reason: choice.reason,
      affinity: choice.affinity,
      details: choice.details ?? {},
      candidates: candidates.map((b) => ({ name: b.name, in_flight: b.inflight, load: effectiveLoad(b, now), routed: b.dispatchCount, affinity_hits: b.affinityHits })),
    };
  });
}

/** A completion body when it has a prompt and no messages; anything else is judged as a chat request. */
function explainedEndpoint(body: unknown): Endpoint {
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return fields.messages === undefined && fields.prompt !== undefined ? 'completions' : 'chat';
}
