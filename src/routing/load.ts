import type { Backend } from '../fleet/backend.js';

/** A scrape older than this is treated as unknown (three missed 1 s scrapes). */
export const ENGINE_METRICS_MAX_AGE_MS = 3_000;

/**
 * Requests a backend has to work through: the router's own in-flight count, or, when the engine's
 * metrics are fresh, its running + waiting at the scrape plus what the router sent since, whichever
 * is larger (so a burst between scrapes is never invisible, and other clients' load is seen).
 */
export function effectiveLoad(backend: Backend, now: number): number {
  const engine = backend.engine;
  if (!engine.isFresh(now, ENGINE_METRICS_MAX_AGE_MS)) return backend.inflight;
  return Math.max(backend.inflight, engine.running + engine.waiting + (backend.dispatchCount - engine.dispatchesAtScrape));
}

/** The least-loaded candidate, scanning from `start` so that ties rotate. */
export function leastLoaded(candidates: readonly Backend[], start: number, now: number): { backend: Backend; load: number } {
  const count = candidates.length;
  let backend = candidates[start % count]!;
  let load = effectiveLoad(backend, now);
  for (let i = 1; i < count; i++) {
    const candidate = candidates[(start + i) % count]!;
    const candidateLoad = effectiveLoad(candidate, now);
    if (candidateLoad < load) {
      backend = candidate;
      load = candidateLoad;
    }
  }
  return { backend, load };
}
