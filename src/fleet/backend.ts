import type { Endpoint } from '../gateway/inference-request.js';
import type { ProviderAdapter, TargetAdapter } from '../providers/adapter.js';
import { EngineLoad } from './engine-load.js';
import { LatencyWindow } from './latency-window.js';

export type BackendKind = 'service' | 'agent' | 'provider' | 'registry';

/**
 * Only configured services are probed: agents prove liveness by heartbeat, and hosted providers
 * and registry entries answer for themselves (probes would cost quota, and most have no health
 * endpoint), so they are never ejected either, since no probe would bring them back.
 */
export const isProbed = (kind: BackendKind): boolean => kind === 'service';

/**
 * How the router knows a backend is up: `probe`, active health probes; `passive`, a service of a
 * paid API (Anthropic, Gemini) that is sent nothing, only taken out by failed requests and let back
 * in by the next round; `heartbeat`, an agent; `none`, hosted providers and registry entries.
 */
export type HealthCheck = 'probe' | 'passive' | 'heartbeat' | 'none';

export function healthCheckOf(backend: { kind: BackendKind; adapter: ProviderAdapter }): HealthCheck {
  if (backend.kind === 'agent') return 'heartbeat';
  if (!isProbed(backend.kind)) return 'none';
  return backend.adapter.passiveHealthOnly ? 'passive' : 'probe';
}

/** Whether the router may send a backend its own requests (metrics scrapes): probed services that are not paid APIs. */
export const isScrapable = (backend: { kind: BackendKind; adapter: ProviderAdapter }): boolean => healthCheckOf(backend) === 'probe';
export const isEjectable = (kind: BackendKind): boolean => kind === 'service' || kind === 'agent';

export interface BackendSpec {
  name: string;
  /** Base URL; request paths such as `/v1/chat/completions` are appended to its path. */
  url: string;
  kind: BackendKind;
  /** Fixed model list; undefined means discover from the backend's model list. */
  models?: readonly string[];
  apiKey?: string;
  healthPath?: string;
  /** Wire format, as the provider layer makes it (OPENAI_COMPATIBLE_TARGET for engines and agents). */
  adapter: TargetAdapter;
  /** The name the upstream knows a client's model by, when it differs (routing hints, registry aliases). */
  upstreamModel?: (model: string) => string;
}

/**
 * One routable upstream and everything the router knows about it right now.
 * Counters are plain fields: the hot path touches them with no allocation.
 */
export class Backend {
  readonly name: string;
  readonly kind: BackendKind;
  readonly url: string;
  readonly origin: string;
  /** URL path prefix without trailing slash ("" or "/openai"). */
  readonly basePath: string;
  readonly apiKey: string | undefined;
  readonly healthPath: string;
  readonly discoverModels: boolean;
  readonly adapter: TargetAdapter;
  private readonly upstreamModel: ((model: string) => string) | undefined;
  models: ReadonlySet<string>;
  /** False while an engine in discovery mode has never said which models it serves (nor has a stored list). */
  modelsKnown: boolean;

  healthy = false;
  inflight = 0;
  /** Times a routing policy sent a request here (retries included). */
  dispatchCount = 0;
  /** Of those, how many went here because the prompt prefix was likely cached here. */
  affinityHits = 0;
  readonly engine = new EngineLoad();
  requestCount = 0;
  errorCount = 0;
  consecutiveFailures = 0;
  totalLatencyS = 0;
  readonly latency = new LatencyWindow();
  readonly ttft = new LatencyWindow();
  lastError: { message: string; at: string } | null = null;
  /** The last active health probe; stays null for a backend that is never probed (see healthCheckOf). */
  lastCheck: { at: string; ok: boolean; latencyMs: number } | null = null;

  constructor(spec: BackendSpec) {
    const url = new URL(spec.url);
    this.name = spec.name;
    this.kind = spec.kind;
    this.url = spec.url;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.apiKey = spec.apiKey;
    this.healthPath = spec.healthPath ?? '/health';
    this.discoverModels = spec.models === undefined;
    this.adapter = spec.adapter;
    this.upstreamModel = spec.upstreamModel;
    this.models = new Set(spec.models ?? []);
    // Only a probed engine reports its models (a translated provider's service is never asked).
    this.modelsKnown = !this.discoverModels || !isScrapable(this);
  }

  /** How to speak to this backend for a request of `endpoint`. */
  adapterFor(endpoint: Endpoint): ProviderAdapter {
    return endpoint === 'messages' ? this.adapter.messagesRoute : endpoint === 'responses' ? this.adapter.responsesRoute : this.adapter;
  }

  /** The name this backend knows `model` by. */
  upstreamModelFor(model: string): string {
    return this.upstreamModel ? this.upstreamModel(model) : model;
  }

  noteRouted(affinity: boolean): void {
    this.dispatchCount++;
    if (affinity) this.affinityHits++;
  }

  recordSuccess(latencyS: number, ttftS: number | undefined): void {
    this.requestCount++;
    this.totalLatencyS += latencyS;
    this.latency.record(latencyS);
    if (ttftS !== undefined) this.ttft.record(ttftS);
    this.consecutiveFailures = 0;
  }

  /** An answer that shows the backend working but is no generation, whose times would mislead latency-aware routing (a call on a stored response). */
  recordAnswered(): void {
    this.requestCount++;
    this.consecutiveFailures = 0;
  }

  recordError(message: string): void {
    this.requestCount++;
    this.errorCount++;
    this.lastError = { message, at: new Date().toISOString() };
  }
}
