import { Counter, Gauge, type Registry } from 'prom-client';
import type { Fleet } from '../fleet/fleet.js';
import type { SharedState } from '../state/shared-state.js';
import type { Activity, ModelSeries } from './metrics.js';

type FallbackLabels = { from: string; to: string; trigger: string };

/** Metrics of the gateway policies: fallbacks, cache, rate limits, cooldowns and the shared state's health. */
export class PolicyMetrics implements ModelSeries {
  private readonly fallbacks: Counter<'from' | 'to' | 'trigger'>;
  /** The fallbacks' label sets, kept to remove those of a model that nothing serves or names any more. */
  private readonly fallbackLabels = new Map<string, FallbackLabels>();
  private readonly cache: Counter<'result'>;
  /** The cache counter's series by result (three at most), found once: every request counts one. */
  private readonly cacheSeries = new Map<string, Counter.Internal>();
  private readonly rateLimited: Counter<'limit'>;
  private readonly spend: Counter<'key'>;

  constructor(registry: Registry, fleet: Fleet, state: SharedState & { reachable?: boolean }, private readonly activity: Activity) {
    const registers = [registry];
    this.fallbacks = new Counter({ name: 'switchyard_fallbacks_total', help: 'Requests moved on to a fallback model, by trigger', labelNames: ['from', 'to', 'trigger'], registers });
    this.cache = new Counter({ name: 'switchyard_cache_requests_total', help: 'Response cache lookups by result (hit, miss, bypass)', labelNames: ['result'], registers });
    this.rateLimited = new Counter({ name: 'switchyard_rate_limited_total', help: 'Requests refused by a rate limit, by limit (rpm, tpm, budget)', labelNames: ['limit'], registers });
    this.spend = new Counter({ name: 'switchyard_spend_usd_total', help: 'Spend by API key name, from the price table', labelNames: ['key'], registers });
    // Only with Redis configured: an unlabelled gauge always exports a value, and a 0 would read as an outage.
    if (state.kind === 'redis') {
      new Gauge({
        name: 'switchyard_redis_up',
        help: 'Whether the shared Redis state is reachable (1) or the instance serves from local state (0)',
        registers,
        collect() {
          this.set(state.reachable ? 1 : 0);
        },
      });
    }
    new Gauge({
      name: 'switchyard_target_benched',
      help: '1 while a target is benched by its cooldown (or waiting for its probe)',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) this.set({ target: backend.name }, state.cooldowns.view(backend.name).state === 'ok' ? 0 : 1);
      },
    });
  }

  fallback(from: string, to: string, trigger: string): void {
    const key = `${from}\0${to}\0${trigger}`;
    if (!this.fallbackLabels.has(key)) this.fallbackLabels.set(key, { from, to, trigger });
    this.fallbacks.labels(from, to, trigger).inc();
    this.activity.fallbacks++;
  }

  forgetModel(model: string): void {
    for (const [key, labels] of this.fallbackLabels) {
      if (labels.from !== model && labels.to !== model) continue;
      this.fallbackLabels.delete(key);
      this.fallbacks.remove(labels);
    }
  }

  cacheResult(result: string): void {
    let series = this.cacheSeries.get(result);
    if (!series) this.cacheSeries.set(result, (series = this.cache.labels(result)));
    series.inc();
    if (result === 'hit') this.activity.cacheHits++;
    else if (result === 'miss') this.activity.cacheMisses++;
  }

  limited(limit: 'rpm' | 'tpm' | 'budget'): void {
    this.rateLimited.labels(limit).inc();
    this.activity.rateLimited++;
  }

  spent(key: string, usd: number): void {
    if (usd > 0) this.spend.labels(key).inc(usd);
  }
}
