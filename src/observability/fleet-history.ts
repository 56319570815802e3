import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';

/** One sample of one target, taken every few seconds. */
export interface TargetSample {
  t: number;
  healthy: boolean;
  inflight: number;
  /** The target's `request_count` and `error_count` at `t` (attempts that ended there, and the failed ones). */
  requestTotal: number;
  errorTotal: number;
  /** Attempts that ended per second since the previous sample. */
  requestsPerS: number;
  /** Median latency of the answers since the previous sample; null when there were none. */
  p50Ms: number | null;
}

/** A target's attempts over the last minute (or since it joined, when that is shorter). */
export interface RecentAttempts {
  /** The time actually covered: from the oldest sample of the minute to now. */
  window_s: number;
  requests: number;
  errors: number;
  requests_per_s: number;
  /** errors / requests; null when nothing ended on the target in the window. */
  error_rate: number | null;
}

export interface FleetHistoryOptions {
  sampleMs: number;
  /** How far back samples are kept. */
  windowMs: number;
  now?: () => number;
}

interface Series {
  /** The backend sampled: one that rejoins under the same name (an agent registering again) starts a new series, its counters from zero. */
  backend: Backend;
  samples: TargetSample[];
  latencyMark: number;
}

const LAST_MINUTE_MS = 60_000;

const toMs = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1e4) / 10);

/**
 * A small in-memory time series of every target, for the dashboard's sparklines and the
 * last-minute rates. It reads the fleet's counters on a timer, so the request path does no extra
 * work for it.
 */
export class FleetHistory {
  private readonly series = new Map<string, Series>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly fleet: Fleet,
    private readonly options: FleetHistoryOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    const t = this.now();
    const live = new Set<string>();
    for (const backend of this.fleet.list()) {
      live.add(backend.name);
      let series = this.series.get(backend.name);
      if (series?.backend !== backend) this.series.set(backend.name, (series = { backend, samples: [], latencyMark: backend.latency.recorded }));
      const { samples } = series;
      const before = samples[samples.length - 1];
      const seconds = before ? (t - before.t) / 1000 : 0;
      samples.push({
        t,
        healthy: backend.healthy,
        inflight: backend.inflight,
        requestTotal: backend.requestCount,
        errorTotal: backend.errorCount,
        requestsPerS: before && seconds > 0 ? Number(((backend.requestCount - before.requestTotal) / seconds).toFixed(3)) : 0,
        p50Ms: toMs(backend.latency.percentileSince(series.latencyMark, 50)),
      });
      series.latencyMark = backend.latency.recorded;
      while (samples.length > 0 && samples[0]!.t < t - this.options.windowMs) samples.shift();
    }
    for (const name of this.series.keys()) if (!live.has(name)) this.series.delete(name);
  }

  of(target: string): readonly TargetSample[] {
    return this.series.get(target)?.samples ?? [];
  }

  /**
   * The backend's attempts from its oldest sample of the last minute to now (its live counters):
   * unlike a rate of the latest sample, failures stay visible for a minute after traffic stops.
   * Null until the backend has been sampled once.
   */
  lastMinute(backend: Backend): RecentAttempts | null {
    const series = this.series.get(backend.name);
    if (series?.backend !== backend) return null;
    const now = this.now();
    const { samples } = series;
    let from = samples.length - 1;
    while (from > 0 && samples[from - 1]!.t >= now - LAST_MINUTE_MS) from--;
    const oldest = samples[from];
    if (!oldest) return null;
    const seconds = Math.max(0, (now - oldest.t) / 1000);
    const requests = backend.requestCount - oldest.requestTotal;
    const errors = backend.errorCount - oldest.errorTotal;
    return {
      window_s: Math.round(seconds),
      requests,
      errors,
      requests_per_s: seconds > 0 ? Number((requests / seconds).toFixed(3)) : 0,
      error_rate: requests > 0 ? Number((errors / requests).toFixed(4)) : null,
    };
  }
}
