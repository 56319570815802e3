import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Fleet } from '../fleet/fleet.js';
import type { Endpoint, Usage } from '../gateway/inference-request.js';
import { effectiveLoad } from '../routing/load.js';

type Observer = { observe(value: number): void };

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface RequestRecord {
  endpoint: Endpoint;
  /** The requested model, or "unknown" when no backend serves it (keeps label sets bounded). */
  model: string;
  /** The backend that answered, or "none". */
  target: string;
  status: number;
  latencyS: number;
  ttftS: number | undefined;
  usage: Usage | undefined;
  retries: number;
}

/**
 * The router's Prometheus metrics. Label children are cached per label set so that recording a
 * request costs a few Map lookups; gauges of fleet state are read at scrape time, not kept in step.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'model' | 'target' | 'status'>;
  private readonly duration: Histogram<'model' | 'target'>;
  private readonly ttft: Histogram<'model' | 'target'>;
  private readonly tokens: Counter<'model' | 'target' | 'type'>;
  private readonly retries: Counter<'model'>;
  private readonly children = new Map<string, { requests: { inc(): void }; duration: Observer; ttft: Observer }>();

  constructor(fleet: Fleet) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_process_' });
    this.requests = new Counter({ name: 'switchyard_requests_total', help: 'Inference requests by route, model, target and HTTP status', labelNames: ['route', 'model', 'target', 'status'], registers });
    this.duration = new Histogram({ name: 'switchyard_request_duration_seconds', help: 'End-to-end request latency', labelNames: ['model', 'target'], buckets: LATENCY_BUCKETS, registers });
    this.ttft = new Histogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time to the first streamed chunk', labelNames: ['model', 'target'], buckets: LATENCY_BUCKETS, registers });
    this.tokens = new Counter({ name: 'switchyard_tokens_total', help: 'Tokens reported in upstream usage, by type (prompt, completion, cached)', labelNames: ['model', 'target', 'type'], registers });
    this.retries = new Counter({ name: 'switchyard_upstream_retries_total', help: 'Requests re-sent to another replica before any byte reached the client', labelNames: ['model'], registers });
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
  }

  record(r: RequestRecord): void {
    const key = `${r.endpoint}\0${r.model}\0${r.target}\0${r.status}`;
    let child = this.children.get(key);
    if (!child) {
      child = {
        requests: this.requests.labels(r.endpoint, r.model, r.target, String(r.status)),
        duration: this.duration.labels(r.model, r.target),
        ttft: this.ttft.labels(r.model, r.target),
      };
      this.children.set(key, child);
    }
    child.requests.inc();
    child.duration.observe(r.latencyS);
    if (r.ttftS !== undefined) child.ttft.observe(r.ttftS);
    if (r.retries > 0) this.retries.labels(r.model).inc(r.retries);
    if (r.usage) this.recordUsage(r.model, r.target, r.usage);
  }

  private recordUsage(model: string, target: string, usage: Usage): void {
    if (usage.prompt_tokens) this.tokens.labels(model, target, 'prompt').inc(usage.prompt_tokens);
    if (usage.completion_tokens) this.tokens.labels(model, target, 'completion').inc(usage.completion_tokens);
    const cached = usage.prompt_tokens_details?.cached_tokens;
    if (cached) this.tokens.labels(model, target, 'cached').inc(cached);
  }
}
