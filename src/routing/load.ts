import type { Backend } from '../fleet/backend.js';
import { lowestScore } from './lowest-score.js';

/**
 * Requests a backend has to work through: `max(in-flight, scraped running + waiting + the router's
 * net change in flight since the scrape)` = in-flight + whatever the engine reported beyond the
 * router's own requests (other clients). A burst between scrapes is never invisible, requests that
 * finished since are not counted twice, and a stale scrape (unknown) falls back to in-flight alone.
 */
export function effectiveLoad(backend: Backend, now: number): number {
  return backend.inflight + othersQueued(backend, now);
}

/** Requests the engine reported at its last fresh scrape beyond the router's own (0 when stale: unknown, not idle). */
export function othersQueued(backend: Backend, now: number): number {
  const engine = backend.engine;
  if (!engine.isFresh(now)) return 0;
  return Math.max(0, engine.running + engine.waiting - engine.inflightAtScrape);
}

/** The least-loaded candidate, scanning from `start` so that ties rotate. */
export function leastLoaded(candidates: readonly Backend[], start: number, now: number): { backend: Backend; load: number } {
  const { backend, score } = lowestScore(candidates, start, (candidate) => effectiveLoad(candidate, now));
  return { backend, load: score };
}
