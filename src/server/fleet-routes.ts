import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Fleet } from '../fleet/fleet.js';
import type { FleetHistory } from '../observability/fleet-history.js';
import { fleetStats } from '../observability/fleet-snapshot.js';
import type { Metrics } from '../observability/metrics.js';
import type { RouteGuard } from './admin-auth.js';
import type { ModelResolver } from '../gateway/model-resolver.js';
import { badRequest } from './errors.js';
import { isPlausibleModelName, MODEL_NAME_RULE } from './validate.js';

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
 * `models` knows the names that route elsewhere (model groups), listed as models too, and where
 * any other name routes, for retrieving one model.
 */
export function registerFleetRoutes(
  app: FastifyInstance,
  fleet: Fleet,
  history: FleetHistory,
  metrics: Metrics,
  guards: FleetRouteGuards,
  describe: (name: string) => Record<string, unknown>,
  models: Pick<ModelResolver, 'groupNames' | 'isGroup' | 'resolve'>,
): void {
  const reader = { onRequest: guards.reader };
  const startedSec = Math.floor(Date.now() / 1000);

  const modelObject = (id: string, ownedBy = fleet.candidates(id)[0]?.name) => ({
    id,
    object: 'model' as const,
    created: startedSec,
    owned_by: ownedBy ?? 'switchyard',
  });

  // Names a prefix rule routes (any gpt-*) cannot be listed: the list is the names the fleet and the groups know.
  const listModels = async () => ({ object: 'list' as const, data: [...new Set([...fleet.servedModels(), ...models.groupNames()])].sort().map((id) => modelObject(id)) });
  app.get('/models', reader, listModels);
  app.get('/v1/models', reader, listModels);
  // Model ids may contain slashes ("org/model"), so the id is the whole rest of the path (already percent-decoded).
  // Any name a request would be routed with now, as a request resolves it (a prefix rule's included), else the error that request would get.
  const retrieveModel = async (request: FastifyRequest) => {
    const id = (request.params as { '*': string })['*'];
    // `/v1/models//`: an empty name, which no request may carry either (`/v1/models/` is the list).
    if (id === '') throw badRequest('Invalid model id: expected a model name', 'model', 'invalid_value');
    if (!isPlausibleModelName(id)) throw badRequest(`Invalid model id: ${MODEL_NAME_RULE}`, 'model', 'invalid_value');
    if (models.isGroup(id)) return modelObject(id);
    const route = models.resolve(id);
    if ('error' in route) throw route.error;
    return modelObject(id, route.backends[0]?.name);
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
