import type { Backend } from './backend.js';
import type { Fleet } from './fleet.js';

const round = (value: number | null, digits = 6) => (value === null ? null : Number(value.toFixed(digits)));

/** One backend as /stats reports it (the InfiniLM router's shape plus percentiles). */
export function backendStats(b: Backend) {
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
    p50_s: round(b.latency.percentile(50)),
    p99_s: round(b.latency.percentile(99)),
    ttft_p50_s: round(b.ttft.percentile(50)),
    ttft_p99_s: round(b.ttft.percentile(99)),
    consecutive_failures: b.consecutiveFailures,
    last_error: b.lastError,
    last_check: b.lastCheck,
  };
}

export type BackendStats = ReturnType<typeof backendStats>;

export function fleetStats(fleet: Fleet) {
  const backends = fleet.list();
  return {
    total_services: backends.length,
    healthy_services: backends.filter((b) => b.healthy).length,
    services: backends.map(backendStats),
  };
}

export type FleetStats = ReturnType<typeof fleetStats>;
