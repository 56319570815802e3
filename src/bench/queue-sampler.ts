import { parseEngineMetrics } from '../fleet/engine-metrics-scraper.js';

export interface QueueFigures {
  /** Time-averaged running + waiting. */
  mean: number;
  peak: number;
}

/** Samples each engine's `/metrics` every `intervalMs` while a run lasts: how long its queue got. */
export function sampleQueues(engines: Record<string, string>, intervalMs = 100): { stop(): Promise<Record<string, QueueFigures>> } {
  const totals = Object.fromEntries(Object.keys(engines).map((name) => [name, { sum: 0, count: 0, peak: 0 }]));
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        Object.entries(engines).map(async ([name, url]) => {
          try {
            const sample = parseEngineMetrics(await (await fetch(`${url}/metrics`)).text());
            if (!sample) return;
            const queue = sample.running + sample.waiting;
            const t = totals[name]!;
            t.sum += queue;
            t.count++;
            t.peak = Math.max(t.peak, queue);
          } catch {
            // A missed sample is not a result.
          }
        }),
      );
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return Object.fromEntries(Object.entries(totals).map(([name, t]) => [name, { mean: t.count ? Math.round((t.sum / t.count) * 10) / 10 : 0, peak: t.peak }]));
    },
  };
}
