import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Fleet } from '../fleet/fleet.js';
import { HealthChecker } from '../fleet/health-checker.js';
import { createPolicies } from '../gateway/create-policies.js';
import type { ModelResolver } from '../gateway/model-resolver.js';
import { Gateway } from '../gateway/gateway.js';
import { FleetHistory } from '../observability/fleet-history.js';
import { Metrics } from '../observability/metrics.js';
import { buildRoutingTable } from '../registry/routing-table.js';
import { createRequestLog } from '../state/create-request-log.js';
import { watchChanges } from '../store/change-watcher.js';
import { EngineMetricsScraper } from '../fleet/engine-metrics-scraper.js';
import { PolicyTable } from '../routing/policy-table.js';
import { createUpstreamAgent } from '../upstream/dispatcher.js';
import { buildApp } from './app.js';
import { shuttingDown } from './errors.js';

export interface RunningRouter {
  app: FastifyInstance;
  fleet: Fleet;
  port: number;
  /** Stops accepting, lets in-flight requests finish within the grace period, then releases everything. */
  close(): Promise<void>;
}

/** Assembles the router from a validated config and starts listening once the first health round is done. */
export async function startRouter(config: Config, log: Logger): Promise<RunningRouter> {
  const routes = buildRoutingTable(config, log);
  const { fleet, db, registry, agents } = routes;
  const missing = routes.providers.missingKeys;
  if (missing.length > 0) {
    // One line for all of them: a router that fronts only self-hosted engines needs no provider keys.
    const list = missing.map(({ provider, variable }) => `${provider} (${variable})`).join(', ');
    log.warn({ missing: missing.map((m) => m.variable) }, `providers without an API key, whose models answer 503 until it is set: ${list}`);
  }
  agents.start();
  const dispatcher = createUpstreamAgent();
  const metrics = new Metrics(fleet);
  const requestLog = config.request_log.enabled ? await createRequestLog(config, db, metrics.registry, log) : undefined;
  const history = new FleetHistory(fleet, { sampleMs: Math.min(5000, config.health_check.interval_s * 1000), windowMs: 15 * 60_000 });
  const routing = new PolicyTable(config.routing, fleet);
  const policies = await createPolicies(config, routes, metrics, log);
  agents.share(policies.state);
  const registryWatch = watchChanges(db, () => {
    try {
      const { changed, removed } = registry.reload();
      policies.resolver.replaceGroups(routes.modelGroups());
      log.info({ changed, removed, groups: registry.groups().map((g) => g.name) }, 'model registry reloaded');
    } catch (error) {
      log.error({ err: error }, 'model registry reload failed');
    }
  });
  const { retry } = config;
  const gateway = new Gateway(
    fleet,
    routing,
    dispatcher,
    metrics,
    log,
    {
      requestTimeoutS: config.request_timeout_s,
      stalledAfterS: config.health_check.timeout_s,
      maxAttempts: retry.max_attempts,
      retryOn: retry.on,
      fallbackOn: config.fallback.on,
      backoffBaseMs: retry.backoff_base_ms,
      backoffMaxMs: retry.backoff_max_ms,
      maxWaitS: retry.max_wait_s,
      attemptTimeoutS: retry.attempt_timeout_s,
      maxResponseBytes: config.max_response_bytes,
      logPrompts: config.logging.log_prompts,
    },
    policies,
    requestLog,
  );
  // Shared counters must be shared from the first request; a Redis that is down only delays start-up briefly.
  await Promise.all([policies.state.whenReady(2000), requestLog?.whenReady(2000)]);
  const { interval_s: intervalS, unhealthy_interval_s: unhealthyIntervalS, timeout_s: timeoutS } = config.health_check;
  const health = new HealthChecker(fleet, dispatcher, { intervalS, unhealthyIntervalS, timeoutS }, log);
  await health.start();
  warnOfUnmatchedModelKeys(config, policies.resolver, log);
  history.start();
  const scraper = new EngineMetricsScraper(fleet, dispatcher, config.routing.engine_metrics.interval_s);
  if (config.routing.engine_metrics.enabled) scraper.start();
  const app = buildApp({ config, log, fleet, gateway, metrics, agents, history, requests: requestLog?.reader, routing, policies });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const healthy = fleet.list().filter((b) => b.healthy).length;
  log.info({ port, host: config.host, services: fleet.list().length, healthy, models: fleet.servedModels() }, 'router listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      health.stop();
      registryWatch.stop();
      agents.stop();
      history.stop();
      scraper.stop();
      const grace = setTimeout(() => {
        // What is still running is told why it ends (an error answer, or an error event on a stream), then cut.
        gateway.stopAll(shuttingDown());
        setTimeout(() => app.server.closeAllConnections(), 250).unref();
      }, config.shutdown_grace_s * 1000);
      // Keep-alive connections that finish their last response during the drain would otherwise
      // hold the server open until their idle timeout.
      const reap = setInterval(() => app.server.closeIdleConnections(), 100);
      await app.close();
      clearTimeout(grace);
      clearInterval(reap);
      await dispatcher.close();
      await policies.close();
      await requestLog?.close();
      db.close();
    })());
  return { app, fleet, port, close };
}

/**
 * A `routing.models` or `rate_limits.models` key that names nothing routable is most likely a typo
 * (model names are case-sensitive, as OpenAI's are), and its policy or limit would silently never
 * apply. A warning, not an error: agents register their models after start-up, and a registry
 * entry can be added at any time.
 */
function warnOfUnmatchedModelKeys(config: Config, resolver: ModelResolver, log: Logger): void {
  const settings = [
    ['routing.models', config.routing.models, 'its policy applies only once a backend serves that name'],
    ['rate_limits.models', config.rate_limits.models, 'its limits apply only to requests for exactly that name, once one is served'],
  ] as const;
  for (const [setting, models, consequence] of settings) {
    const unmatched = Object.keys(models).filter((name) => !resolver.knows(name) && 'error' in resolver.resolve(name));
    if (unmatched.length > 0) log.warn({ models: unmatched }, `${setting} names no model group, registry entry or served model: ${unmatched.join(', ')} (${consequence})`);
  }
}
