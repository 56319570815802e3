import type { Fleet } from '../fleet/fleet.js';

/** One sample of one target. Rates are over the interval since the previous sample. */
export interface TargetSample {
  t: number;
  healthy: boolean;
  inflight: number;
  requestsPerS: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  ttftP50Ms: number | null;
}

export interface FleetHistoryOptions {
  sampleMs: number;
  /** How far back samples are kept. */
  windowMs: number;
  now?: () => number;
}

const toMs = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1e4) / 10);

/**
 * A small in-memory time series of every target for the dashboard's sparklines. It reads the
 * fleet's counters on a timer, so the request path does no extra work for it.
 */
export class FleetHistory {
  private readonly series = new Map<string, TargetSample[]>();
  private readonly previous = new Map<string, { t: number; requests: number; errors: number }>();
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
      const before = this.previous.get(backend.name);
      const requests = backend.requestCount - (before?.requests ?? backend.requestCount);
      const errors = backend.errorCount - (before?.errors ?? backend.errorCount);
      const seconds = before ? (t - before.t) / 1000 : 0;
      this.previous.set(backend.name, { t, requests: backend.requestCount, errors: backend.errorCount });
      let samples = this.series.get(backend.name);
      if (!samples) this.series.set(backend.name, (samples = []));
      samples.push({
        t,
        healthy: backend.healthy,
        inflight: backend.inflight,
        requestsPerS: seconds > 0 ? requests / seconds : 0,
        errorRate: requests > 0 ? errors / requests : 0,
        p50Ms: toMs(backend.latency.percentile(50)),
        p99Ms: toMs(backend.latency.percentile(99)),
        ttftP50Ms: toMs(backend.ttft.percentile(50)),
      });
      while (samples.length > 0 && samples[0]!.t < t - this.options.windowMs) samples.shift();
    }
    for (const name of this.series.keys()) {
      if (!live.has(name)) {
        this.series.delete(name);
        this.previous.delete(name);
      }
    }
  }

  of(target: string): readonly TargetSample[] {
    return this.series.get(target) ?? [];
  }
}
