import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Fleet } from '../fleet/fleet.js';
import type { FleetHistory } from '../observability/fleet-history.js';
import { fleetStats } from '../observability/fleet-snapshot.js';
import type { Metrics } from '../observability/metrics.js';
import type { RouteGuard } from './admin-auth.js';
import { ApiError } from './errors.js';

export interface FleetRouteGuards {
  /** Models, /services and /stats. */
  reader: RouteGuard;
  /** Prometheus text, which names API keys in its spend series. */
  metrics: RouteGuard;
}

/**
 * The InfiniLM router's read-only endpoints, in its shapes, plus OpenAI's model list; /health
 * stays unguarded for load balancers.
 * `describe` adds per-target fields owned elsewhere (the cooldown state) to /services and /stats;
 * `groups` are model names that route elsewhere (model groups), listed as models too.
 */
export function registerFleetRoutes(
  app: FastifyInstance,
  fleet: Fleet,
  history: FleetHistory,
  metrics: Metrics,
  guards: FleetRouteGuards,
  describe: (name: string) => Record<string, unknown>,
  groups: () => readonly string[],
): void {
  const reader = { onRequest: guards.reader };
  const startedSec = Math.floor(Date.now() / 1000);

  const modelObject = (id: string) => ({
    id,
    object: 'model' as const,
    created: startedSec,
    owned_by: fleet.candidates(id)[0]?.name ?? 'switchyard',
  });

  const listModels = async () => ({ object: 'list' as const, data: [...new Set([...fleet.servedModels(), ...groups()])].sort().map(modelObject) });
  app.get('/models', reader, listModels);
  app.get('/v1/models', reader, listModels);
  // Model ids may contain slashes ("org/model"), so the id is the whole rest of the path (already percent-decoded).
  const retrieveModel = async (request: FastifyRequest) => {
    const id = (request.params as { '*': string })['*'];
    if (fleet.candidates(id).length === 0 && !groups().includes(id)) {
      throw new ApiError(404, `The model '${id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
    }
    return modelObject(id);
  };
  app.get('/v1/models/*', reader, retrieveModel);
  // The unprefixed twin, as for the list: a client whose base URL is the router's root (as the InfiniLM router's were) retrieves /models/{id}.
  app.get('/models/*', reader, retrieveModel);

  const health = async () => {
    // The InfiniLM contract counts the inference services (and agents): hosted providers are not ours to vouch for.
    const backends = fleet.list().filter((b) => b.kind === 'service' || b.kind === 'agent');
    const healthy = backends.filter((b) => b.healthy).length;
    const status = healthy === backends.length && healthy > 0 ? 'healthy' : healthy > 0 ? 'degraded' : 'unhealthy';
    return { status, router: 'running', healthy_services: `${healthy}/${backends.length}`, timestamp: new Date().toISOString() };
  };
  app.get('/health', health);
  // LiteLLM proxy's probe paths, which its deployments' Kubernetes probes name: alive (503 once shutting down, as every route), and ready.
  const alive = async (_request: FastifyRequest, reply: FastifyReply) => reply.type('application/json').send(JSON.stringify("I'm alive!"));
  app.get('/health/liveliness', alive);
  app.get('/health/liveness', alive);
  app.get('/health/readiness', health);

  app.get('/services', reader, async () => {
    const services = fleet.list().map((b) => ({ name: b.name, url: b.url, healthy: b.healthy, models: [...b.models], kind: b.kind, ...describe(b.name) }));
    return { services, total: services.length };
  });

  app.get('/stats', reader, async () => {
    const stats = fleetStats(fleet, history);
    return { ...stats, services: stats.services.map((service) => ({ ...service, ...describe(service.name) })) };
  });

  app.get('/metrics', { onRequest: guards.metrics }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
