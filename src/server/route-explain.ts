import type { FastifyInstance } from 'fastify';
import type { Fleet } from '../fleet/fleet.js';
import { effectiveLoad } from '../routing/load.js';
import type { RoutingTable } from '../routing/routing-table.js';
import { badRequest, modelNotFound, noHealthyBackend } from './errors.js';
import { validateInference } from './validate.js';

/**
 * `POST /route/explain` with a chat (`messages`) or completion (`prompt`) body: which replica the
 * request would go to now and why, without sending it or changing any routing state. Headers such
 * as the session header are taken from this request, as they would be from the real one.
 */
export function registerRouteExplain(app: FastifyInstance, fleet: Fleet, routing: RoutingTable): void {
  app.post('/route/explain', async (request) => {
    const body = request.body as Record<string, unknown> | null;
    if (body && typeof body === 'object' && body.messages === undefined && body.prompt === undefined) {
      throw badRequest("Missing required parameter: 'messages' or 'prompt'", 'messages', 'missing_required_parameter');
    }
    const { model } = validateInference(body && typeof body === 'object' && body.messages !== undefined ? 'chat' : 'completions', body);
    const candidates = fleet.candidates(model);
    if (candidates.length === 0) throw fleet.knows(model) ? noHealthyBackend(model) : modelNotFound(model);
    const choice = routing.explain(candidates, { model, body: body!, headers: request.headers });
    const now = performance.now();
    return {
      model,
      policy: choice.policy,
      target: choice.backend.name,
      reason: choice.reason,
      affinity: choice.affinity,
      details: choice.details ?? {},
      candidates: candidates.map((b) => ({ name: b.name, in_flight: b.inflight, load: effectiveLoad(b, now), routed: b.dispatchCount, affinity_hits: b.affinityHits })),
    };
  });
}
