import { healthCheckOf, type Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import { effectiveLoad } from '../routing/load.js';
import type { FleetHistory } from './fleet-history.js';

const round = (value: number | null, digits = 6) => (value === null ? null : Number(value.toFixed(digits)));

/** One backend as /stats reports it (the InfiniLM router's shape plus percentiles and routing state). */
export function backendStats(b: Backend, routedTotal: number, now: number) {
  return {
    name: b.name,
    kind: b.kind,
    url: b.url,
    healthy: b.healthy,
    models: [...b.models],
    request_count: b.requestCount,
    error_count: b.errorCount,
    response_time: b.requestCount > b.errorCount ? round(b.totalLatencyS / (b.requestCount - b.errorCount)) : 0,
    in_flight: b.inflight,
    routed: b.dispatchCount,
    routed_share: routedTotal > 0 ? round(b.dispatchCount / routedTotal, 4) : 0,
    affinity_hits: b.affinityHits,
    engine: b.engine.isFresh(now) ? { running: b.engine.running, waiting: b.engine.waiting, kv_cache_usage: round(b.engine.kvUsage, 4) } : null,
    load: effectiveLoad(b, now),
    p50_s: round(b.latency.percentile(50)),
    p99_s: round(b.latency.percentile(99)),
    ttft_p50_s: round(b.ttft.percentile(50)),
    ttft_p99_s: round(b.ttft.percentile(99)),
    consecutive_failures: b.consecutiveFailures,
    last_error: b.lastError,
    health_check: healthCheckOf(b),
    last_check: b.lastCheck,
  };
}

export function fleetStats(fleet: Fleet, history: FleetHistory) {
  const backends = fleet.list();
  const routedTotal = backends.reduce((sum, b) => sum + b.dispatchCount, 0);
  const now = performance.now();
  return {
    total_services: backends.length,
    healthy_services: backends.filter((b) => b.healthy).length,
    services: backends.map((b) => ({ ...backendStats(b, routedTotal, now), last_minute: history.lastMinute(b) })),
  };
}

export type FleetStats = ReturnType<typeof fleetStats>;
