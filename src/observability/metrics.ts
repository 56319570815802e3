import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Fleet } from '../fleet/fleet.js';
import type { Route, Usage } from '../gateway/inference-request.js';
import { effectiveLoad } from '../routing/load.js';
import { collectProcessMetrics } from './process-metrics.js';

type Observer = { observe(value: number): void };

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const INTER_TOKEN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];


/** The model label of requests for a name nothing serves or names: one series for all of them. */
export const UNKNOWN_MODEL = 'unknown';

export interface RequestRecord {
  endpoint: Route;
  /** The requested model, or UNKNOWN_MODEL when no backend serves it (keeps label sets bounded). */
  model: string;
  /** The backend that answered, "cache" for a response-cache hit, or "none". */
  target: string;
  status: number;
  latencyS: number;
  ttftS: number | undefined;
  /** Mean gap between streamed chunks after the first; undefined for non-streamed answers. */
  interTokenS: number | undefined;
  /** Time spent in the router itself: end-to-end latency minus time waiting on upstreams. */
  overheadS: number;
  usage: Usage | undefined;
  retries: number;
  /** A stream that started (status 200) but broke, was truncated or was cut off before its end. */
  streamBroken: boolean;
}

/** Running totals the dashboard shows, kept as plain numbers next to the Prometheus series. */
export interface Activity {
  /** Requests answered to clients, refused ones included: the sum of switchyard_requests_total (retries and fallbacks are not more requests). */
  requests: number;
  /** Requests that failed for their client: a 5xx answer (the router's or a target's) or a stream that broke after it started. */
  failed: number;
  retries: number;
  fallbacks: number;
  cacheHits: number;
  cacheMisses: number;
  rateLimited: number;
}

/** Targets of answers no backend gave: the router's own refusals and response-cache hits. */
const ROUTER_TARGETS = new Set(['none', 'cache']);

const TOKEN_TYPES = ['prompt', 'completion', 'cached'] as const;

type Incrementer = { inc(value?: number): void };

/** Series keyed by model names kept elsewhere (the fallbacks), dropped with the model (see Metrics.keepModelsNamed). */
export interface ModelSeries {
  forgetModel(model: string): void;
}

interface RequestChildren {
  /** The request counter's labels, kept to remove the series when the target leaves the fleet. */
  labels: { route: Route; model: string; target: string; status: string };
  requests: Incrementer;
  duration: Observer;
  ttft: Observer;
  interToken: Observer;
  promptTokens: Incrementer;
  completionTokens: Incrementer;
  cachedTokens: Incrementer;
}

/**
 * The router's Prometheus metrics. Label children are cached per label set so that recording a
 * request costs a few Map lookups; gauges of fleet state are read at scrape time, not kept in step.
 * The gateway policies' series (fallbacks, cache, rate limits, spend, Redis) live in PolicyMetrics,
 * which adds to the same registry and to `activity`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly activity: Activity = { requests: 0, failed: 0, retries: 0, fallbacks: 0, cacheHits: 0, cacheMisses: 0, rateLimited: 0 };
  private readonly requests: Counter<'route' | 'model' | 'target' | 'status'>;
  private readonly duration: Histogram<'model' | 'target'>;
  private readonly ttft: Histogram<'model' | 'target'>;
  private readonly interToken: Histogram<'model' | 'target'>;
  private readonly overhead: Histogram;
  private readonly tokens: Counter<'model' | 'target' | 'type'>;
  private readonly retries: Counter<'model'>;
  private readonly streamErrors: Counter<'model' | 'target'>;
  private readonly children = new Map<string, RequestChildren>();
  private readonly retryCounters = new Map<string, Incrementer>();
  /** Models whose series with a departed target were dropped: their other series go too once nothing serves or names them. */
  private readonly orphanedModels = new Set<string>();
  private isNamed: (model: string) => boolean = () => false;
  private modelSeries: readonly ModelSeries[] = [];

  constructor(private readonly fleet: Fleet) {
    fleet.on('removed', (name) => this.forgetTarget(name));
    const registers = [this.registry];
    collectProcessMetrics(this.registry, 'switchyard_process_');
    this.requests = new Counter({ name: 'switchyard_requests_total', help: 'Inference requests by route, model, target and HTTP status', labelNames: ['route', 'model', 'target', 'status'], registers });
    this.duration = new Histogram({ name: 'switchyard_request_duration_seconds', help: 'End-to-end request latency', labelNames: ['model', 'target'], buckets: LATENCY_BUCKETS, registers });
    this.ttft = new Histogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time to the first streamed chunk', labelNames: ['model', 'target'], buckets: LATENCY_BUCKETS, registers });
    this.interToken = new Histogram({
      name: 'switchyard_inter_token_latency_seconds',
      help: 'Mean time between streamed chunks after the first, one observation per streamed request',
      labelNames: ['model', 'target'],
      buckets: INTER_TOKEN_BUCKETS,
      registers,
    });
    this.overhead = new Histogram({ name: 'switchyard_router_overhead_seconds', help: 'Time each request spent in the router itself, outside upstream calls', buckets: OVERHEAD_BUCKETS, registers });
    this.tokens = new Counter({ name: 'switchyard_tokens_total', help: 'Tokens reported in upstream usage, by type (prompt, completion, cached)', labelNames: ['model', 'target', 'type'], registers });
    this.retries = new Counter({ name: 'switchyard_upstream_retries_total', help: 'Attempts after the first (another replica, the same one after a pause, or a fallback model), before any byte reached the client', labelNames: ['model'], registers });
    this.streamErrors = new Counter({
      name: 'switchyard_stream_errors_total',
      help: 'Streams that started (counted with status 200) but did not end properly (with [DONE], or a Responses stream with its terminal event): broken, truncated or cut off; the client got an error event',
      labelNames: ['model', 'target'],
      registers,
    });
    new Gauge({
      name: 'switchyard_inflight_requests',
      help: 'Requests in flight per target',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) this.set({ target: backend.name }, backend.inflight);
      },
    });
    new Counter({
      name: 'switchyard_routed_total',
      help: 'Requests a routing policy sent to each target (retries included)',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) this.inc({ target: backend.name }, backend.dispatchCount);
      },
    });
    new Counter({
      name: 'switchyard_routing_affinity_hits_total',
      help: 'Requests sent to a target because their prompt prefix (or session) was likely cached there',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) this.inc({ target: backend.name }, backend.affinityHits);
      },
    });
    new Gauge({
      name: 'switchyard_target_queue',
      help: "Requests the router estimates each target has to work through (in-flight, corrected by the engine's own running + waiting)",
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        const now = performance.now();
        for (const backend of fleet.list()) this.set({ target: backend.name }, effectiveLoad(backend, now));
      },
    });
    new Gauge({
      name: 'switchyard_target_healthy',
      help: '1 when the target is healthy and routable, else 0',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) this.set({ target: backend.name }, backend.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchyard_target_last_probe_timestamp_seconds',
      help: 'Unix time of the last health probe of the target',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) if (backend.lastCheck) this.set({ target: backend.name }, Date.parse(backend.lastCheck.at) / 1000);
      },
    });
    new Gauge({
      name: 'switchyard_target_last_probe_duration_seconds',
      help: 'How long the last health probe of the target took',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const backend of fleet.list()) if (backend.lastCheck) this.set({ target: backend.name }, backend.lastCheck.latencyMs / 1000);
      },
    });
  }

  /**
   * Drops the series of a target that left the fleet: agents come and go under new names, and
   * each departed one would otherwise keep its label sets, in every scrape, until a restart.
   */
  forgetTarget(target: string): void {
    for (const [key, child] of this.children) {
      if (child.labels.target !== target) continue;
      this.forgetChild(key, child);
      this.orphanedModels.add(child.labels.model);
    }
    // Judged once the departure is complete: the fleet reindexes, and a registry entry's route goes, after its target.
    if (this.orphanedModels.size > 0) queueMicrotask(() => this.forgetUnservedModels());
  }

  /**
   * What keeps a model's series once no target in the fleet lists it: `isNamed` (model groups,
   * their targets and fallbacks, registry entries); `others`, series keyed by model names kept
   * elsewhere, dropped with the model's own.
   */
  keepModelsNamed(isNamed: (model: string) => boolean, ...others: ModelSeries[]): void {
    this.isNamed = isNamed;
    this.modelSeries = others;
  }

  /**
   * Drops the series of the models that only departed targets served (retries, refusals, cache
   * hits, fallbacks): agents register under arbitrary model names too. A model some remaining
   * target has series of (a provider that answered it by a prefix rule) keeps them.
   */
  private forgetUnservedModels(): void {
    for (const model of this.orphanedModels) {
      if (model === UNKNOWN_MODEL || this.fleet.knows(model) || this.isNamed(model) || this.hasTargetSeries(model)) continue;
      for (const [key, child] of this.children) if (child.labels.model === model) this.forgetChild(key, child);
      if (this.retryCounters.delete(model)) this.retries.remove(model);
      for (const series of this.modelSeries) series.forgetModel(model);
    }
    this.orphanedModels.clear();
  }

  private hasTargetSeries(model: string): boolean {
    for (const { labels } of this.children.values()) if (labels.model === model && !ROUTER_TARGETS.has(labels.target)) return true;
    return false;
  }

  private forgetChild(key: string, { labels }: RequestChildren): void {
    this.children.delete(key);
    this.requests.remove(labels);
    const pair = { model: labels.model, target: labels.target };
    this.duration.remove(pair);
    this.ttft.remove(pair);
    this.interToken.remove(pair);
    this.streamErrors.remove(pair);
    for (const type of TOKEN_TYPES) this.tokens.remove({ ...pair, type });
  }

  record(r: RequestRecord): void {
    this.activity.requests++;
    if (r.status >= 500 || r.streamBroken) this.activity.failed++;
    this.overhead.observe(r.overheadS);
    const child = this.childFor(r);
    if (r.retries > 0) {
      this.retryCounter(r.model, child !== undefined)?.inc(r.retries);
      this.activity.retries += r.retries;
    }
    if (!child) return;
    child.requests.inc();
    child.duration.observe(r.latencyS);
    if (r.ttftS !== undefined) child.ttft.observe(r.ttftS);
    if (r.interTokenS !== undefined) child.interToken.observe(r.interTokenS);
    if (r.streamBroken) this.streamErrors.labels(r.model, r.target).inc();
    const usage = r.usage;
    if (usage) {
      if (usage.prompt_tokens) child.promptTokens.inc(usage.prompt_tokens);
      if (usage.completion_tokens) child.completionTokens.inc(usage.completion_tokens);
      const cached = usage.prompt_tokens_details?.cached_tokens;
      if (cached) child.cachedTokens.inc(cached);
    }
  }

  /** The model's retry counter; none is made for a request whose series are not (see childFor), so a departed target's last request cannot bring its model's back. */
  private retryCounter(model: string, hasSeries: boolean): Incrementer | undefined {
    let counter = this.retryCounters.get(model);
    if (!counter && hasSeries) this.retryCounters.set(model, (counter = this.retries.labels(model)));
    return counter;
  }

  /**
   * The request's series, made on first use; none for a target that has already left the fleet:
   * a request it was still answering when it left ends after its series were dropped, and must
   * not bring them back for good.
   */
  private childFor(r: RequestRecord): RequestChildren | undefined {
    const key = `${r.endpoint}\0${r.model}\0${r.target}\0${r.status}`;
    let child = this.children.get(key);
    if (!child) {
      if (!ROUTER_TARGETS.has(r.target) && !this.fleet.get(r.target)) return undefined;
      const labels = { route: r.endpoint, model: r.model, target: r.target, status: String(r.status) };
      child = {
        labels,
        requests: this.requests.labels(labels),
        duration: this.duration.labels(r.model, r.target),
        ttft: this.ttft.labels(r.model, r.target),
        interToken: this.interToken.labels(r.model, r.target),
        promptTokens: this.tokens.labels(r.model, r.target, 'prompt'),
        completionTokens: this.tokens.labels(r.model, r.target, 'completion'),
        cachedTokens: this.tokens.labels(r.model, r.target, 'cached'),
      };
      this.children.set(key, child);
    }
    return child;
  }
}
