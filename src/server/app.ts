import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Gateway } from '../gateway/gateway.js';
import type { FleetHistory } from '../observability/fleet-history.js';
import type { GatewayPolicies } from '../gateway/policies.js';
import type { Metrics } from '../observability/metrics.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { registerAgentRoutes } from './agent-routes.js';
import type { RequestReader } from '../store/request-log.js';
import { requireAdmin } from './admin-auth.js';
import { registerAdminKeyRoutes } from './admin-key-routes.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import type { PolicyTable } from '../routing/policy-table.js';
import { registerJsonBodyParser } from './body-parser.js';
import { clientErrorHandler, frameworkErrors, refuseConnect, refuseExpectation, refuseWithoutHost, registerErrorHandlers } from './error-handler.js';
import { registerFleetRoutes } from './fleet-routes.js';
import { cors, foreignOriginGuard } from './cors.js';
import { inferenceRoutes } from './inference-routes.js';
import { rebindingGuard } from './rebinding-guard.js';
import { registerMessagesTokenCount } from './messages-token-count.js';
import { requestId } from './request-id.js';
import { readerOf, requireApiKey } from './require-api-key.js';
import { registerRouteExplain } from './route-explain.js';

export interface AppParts {
  config: Config;
  log: Logger;
  fleet: Fleet;
  gateway: Gateway;
  metrics: Metrics;
  agents: AgentRegistry;
  history: FleetHistory;
  /** The request log (SQLite, or shared through Redis); absent when it is disabled. */
  requests: RequestReader | undefined;
  routing: PolicyTable;
  policies: GatewayPolicies;
}

export function buildApp({ config, log, fleet, gateway, metrics, agents, history, requests, routing, policies }: AppParts): FastifyInstance {
  const inference = inferenceRoutes(gateway, config.max_body_bytes, log);
  const crossOrigin = cors(config.cors.origins);
  const refuseForeignOrigin = foreignOriginGuard(config.cors.origins);
  const refuseRebound = rebindingGuard(config.allowed_hosts);
  const app = Fastify({
    serverFactory: (fastifyHandler) => {
      const requestTimeout = config.request_timeout_s * 1000;
      const server = createServer(
        {
          // Bounds receiving a request (headers and body), not answering it: a client that trickles its
          // body holds a connection at most this long. Answers are bounded by the gateway's deadline.
          requestTimeout,
          headersTimeout: Math.min(60_000, requestTimeout),
          // Both are enforced by a periodic check: often enough for short timeouts too.
          connectionsCheckingInterval: Math.min(30_000, requestTimeout / 2),
          // Checked below instead: Node's own refusal has no body.
          requireHostHeader: false,
        },
        (req, res) => {
          if (refuseWithoutHost(req, res) || refuseRebound(req, res) || refuseForeignOrigin(req, res) || crossOrigin?.apply(req, res)) return;
          if (!inference.take(req, res)) fastifyHandler(req, res);
        },
      );
      server.keepAliveTimeout = 75_000;
      server.on('connect', refuseConnect);
      server.on('checkExpectation', refuseExpectation);
      return server;
    },
    loggerInstance: log as FastifyBaseLogger,
    // Per-request access logging costs more than the proxying itself; the request log covers it.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    // No child logger per request (it costs microseconds on every call); lines about a request name its id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.max_body_bytes,
    // `/health/` and `/v1/models/` as `/health` and `/v1/models`: the FastAPI routers Switchyard replaces redirected them there, and clients followed.
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestId,
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
    forceCloseConnections: 'idle',
  });
  app.addHook('preClose', (done) => {
    inference.drain();
    done();
  });
  // Every answer carries its request id, as the inference routes' and OpenAI's do (the SDKs expose it as `_request_id`).
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  registerJsonBodyParser(app);
  registerErrorHandlers(app);
  const reader = requireApiKey(policies.identifier, config.admin_token);
  const fleetGuards = { reader, metrics: requireAdmin(config.admin_token, { withoutToken: 'open' }) };
  const describeTarget = (name: string) => ({ cooldown: policies.cooldownOf(name) });
  registerFleetRoutes(app, fleet, history, metrics, fleetGuards, describeTarget, policies.resolver);
  const keysRequired = () => policies.identifier.keysRequired();
  // The drop-in case of the replaced router: nothing here asks for credentials.
  const routerIsOpen = () => config.admin_token === undefined && !keysRequired();
  registerAgentRoutes(app, agents, { token: config.agents.registration_token, routerIsOpen }, log);
  const adminParts = { fleet, metrics, history, requests, adminToken: config.admin_token, keysRequired, describeTarget };
  registerAdminRoutes(app, adminParts);
  registerDashboardRoutes(app, adminParts);
  registerRouteExplain(app, policies.resolver, routing, reader, readerOf(policies.identifier, config.admin_token), gateway.responses, gateway.bridged, policies.state.cooldowns);
  registerAdminKeyRoutes(app, policies, config.admin_token);
  registerMessagesTokenCount(app, policies);
  return app;
}
