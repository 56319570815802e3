/** Scrape intervals a reading stays usable without a newer one: then it counts as unknown, not idle. */
export const ENGINE_READING_LIFETIME_INTERVALS = 3;

/**
 * What a backend's own `/metrics` said about its load at the last scrape. Only a correction to the
 * router's own counts: a stale reading means "unknown", never "idle".
 */
export class EngineLoad {
  running = 0;
  waiting = 0;
  kvUsage = 0;
  /** performance.now() of the last successful scrape, undefined before any. */
  scrapedAt: number | undefined;
  /** How long that reading stays fresh: a few scrape intervals, so failed or stopped scrapes cannot steer routing for long. */
  maxAgeMs = 0;
  /** The router's own in-flight count at that scrape: what the engine reported beyond it is other clients' load. */
  inflightAtScrape = 0;

  update(sample: { running: number; waiting: number; kvUsage: number }, inflight: number, at: number, maxAgeMs: number): void {
    this.running = sample.running;
    this.waiting = sample.waiting;
    this.kvUsage = sample.kvUsage;
    this.inflightAtScrape = inflight;
    this.scrapedAt = at;
    this.maxAgeMs = maxAgeMs;
  }

  isFresh(now: number): boolean {
    return this.scrapedAt !== undefined && now - this.scrapedAt <= this.maxAgeMs;
  }
}
