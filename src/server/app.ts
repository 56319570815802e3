import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Gateway } from '../gateway/gateway.js';
import type { GatewayPolicies } from '../gateway/policies.js';
import type { Metrics } from '../observability/metrics.js';
import { registerJsonBodyParser } from './body-parser.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerErrorHandlers } from './error-handler.js';
import { registerFleetRoutes } from './fleet-routes.js';
import { registerInferenceRoutes } from './inference-routes.js';
import { requestId } from './request-id.js';

export interface AppParts {
  config: Config;
  log: Logger;
  fleet: Fleet;
  gateway: Gateway;
  metrics: Metrics;
  policies: GatewayPolicies;
}

export function buildApp({ config, log, fleet, gateway, metrics, policies }: AppParts): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request access logging costs more than the proxying itself; the request log covers it.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.max_body_bytes,
    genReqId: requestId,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 75_000,
    requestTimeout: 0,
  });
  registerJsonBodyParser(app);
  registerErrorHandlers(app);
  registerInferenceRoutes(app, gateway);
  registerFleetRoutes(app, fleet, metrics, (name) => ({ cooldown: policies.cooldownOf(name) }), policies.resolver.groupNames());
  registerAdminRoutes(app, policies, config.admin_token);
  return app;
}
