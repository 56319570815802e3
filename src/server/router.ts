import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { Fleet } from '../fleet/fleet.js';
import { HealthChecker } from '../fleet/health-checker.js';
import { createPolicies } from '../gateway/create-policies.js';
import { Gateway } from '../gateway/gateway.js';
import { Metrics } from '../observability/metrics.js';
import { createPolicy } from '../routing/registry.js';
import { createUpstreamAgent } from '../upstream/dispatcher.js';
import { buildApp } from './app.js';

export interface RunningRouter {
  app: FastifyInstance;
  fleet: Fleet;
  port: number;
  /** Stops accepting, lets in-flight requests finish within the grace period, then releases everything. */
  close(): Promise<void>;
}

/** Assembles the router from a validated config and starts listening once the first health round is done. */
export async function startRouter(config: Config, log: Logger): Promise<RunningRouter> {
  const fleet = new Fleet(config.health_check.failure_threshold);
  for (const service of config.services) {
    fleet.add({ name: service.name, url: service.url, kind: 'service', models: service.models, apiKey: service.api_key, healthPath: service.health_path });
  }
  const dispatcher = createUpstreamAgent();
  const metrics = new Metrics(fleet);
  const policies = createPolicies(config, fleet, metrics.registry, log);
  const { retry } = config;
  const gateway = new Gateway(
    fleet,
    createPolicy(config.routing.policy),
    dispatcher,
    metrics,
    log,
    {
      requestTimeoutS: config.request_timeout_s,
      maxAttempts: retry.max_attempts,
      retryOn: retry.on,
      fallbackOn: config.fallback.on,
      backoffBaseMs: retry.backoff_base_ms,
      backoffMaxMs: retry.backoff_max_ms,
      maxWaitS: retry.max_wait_s,
      attemptTimeoutS: retry.attempt_timeout_s,
    },
    policies,
  );
  // Shared counters must be shared from the first request; a Redis that is down only delays start-up briefly.
  await policies.state.whenReady(2000);
  const health = new HealthChecker(fleet, dispatcher, { intervalS: config.health_check.interval_s, timeoutS: config.health_check.timeout_s }, log);
  await health.start();
  const app = buildApp({ config, log, fleet, gateway, metrics, policies });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const healthy = fleet.list().filter((b) => b.healthy).length;
  log.info({ port, host: config.host, services: fleet.list().length, healthy, models: fleet.servedModels() }, 'router listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      health.stop();
      const grace = setTimeout(() => app.server.closeAllConnections(), config.shutdown_grace_s * 1000);
      grace.unref();
      await app.close();
      clearTimeout(grace);
      await dispatcher.close();
      await policies.close();
    })());
  return { app, fleet, port, close };
}
