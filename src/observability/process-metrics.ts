import { createHistogram, performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * How often the event loop's lag is sampled. prom-client's default collector samples it every
 * 10 ms, with a timer that wakes an idle router 100 times a second; once a second wakes it once.
 * Each sample is how late a timer due at an arbitrary moment ran, which is how long a request
 * arriving then waits for the loop: fewer samples estimate the same distribution. A stall of a
 * second or more is always seen; a shorter one as often as a sample falls in it.
 */
export const LAG_SAMPLE_MS = 1000;

/** prom-client's own lag monitor cannot be left out of its default metrics: at this resolution (about 24.8 days) its timer never fires in practice. */
const DORMANT_MS = 2 ** 31 - 1;

/** prom-client's lag statistics, each replaced by the same statistic of the samples taken every LAG_SAMPLE_MS. */
const LAG_STATISTICS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;

/**
 * prom-client's default process metrics (CPU, memory, handles, GC, the event-loop lag of a
 * setImmediate at each scrape), with its event-loop lag statistics sampled once a second instead
 * of every 10 ms, over the samples since the previous scrape. A sample is the time a timer ran
 * late, where prom-client's (Node's monitorEventLoopDelay) counted the 10 ms between samples too.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: DORMANT_MS });
  const name = (statistic: string) => `${prefix}nodejs_eventloop_lag_${statistic}_seconds`;
  for (const statistic of LAG_STATISTICS) registry.removeSingleMetric(name(statistic));

  // Nanoseconds late; the histogram takes integers from 1.
  const samples = createHistogram();
  let due = performance.now() + LAG_SAMPLE_MS;
  setInterval(() => {
    const now = performance.now();
    samples.record(Math.max(1, Math.round((now - due) * 1e6)));
    due = now + LAG_SAMPLE_MS;
  }, LAG_SAMPLE_MS).unref();

  const read: Record<(typeof LAG_STATISTICS)[number], () => number> = {
    min: () => samples.min,
    max: () => samples.max,
    mean: () => samples.mean,
    stddev: () => samples.stddev,
    p50: () => samples.percentile(50),
    p90: () => samples.percentile(90),
    p99: () => samples.percentile(99),
  };
  const gauges = LAG_STATISTICS.map(
    (statistic, index) =>
      new Gauge({
        name: name(statistic),
        help: `The ${statistic} of the event-loop lag sampled every ${LAG_SAMPLE_MS} ms since the previous scrape (NaN: no sample)`,
        registers: [registry],
        // The first gauge's collect sets them all, before the registry reads the others.
        collect: index === 0 ? readAndReset : undefined,
      }),
  );
  function readAndReset(): void {
    LAG_STATISTICS.forEach((statistic, index) => gauges[index]!.set(samples.count === 0 ? NaN : read[statistic]() / 1e9));
    samples.reset();
  }
}
