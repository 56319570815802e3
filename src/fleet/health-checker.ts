import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { isProbed, type Backend } from './backend.js';
import type { Fleet } from './fleet.js';
import { openAiPath } from '../upstream/paths.js';
import { readText } from '../upstream/read-text.js';

/** A health answer or model list larger than this fails the probe (a model list is a few kilobytes). */
const PROBE_MAX_BYTES = 4 * 1024 * 1024;

interface ProbeResult {
  ok: boolean;
  models?: string[];
  error?: string;
}

/**
 * Active health checks: each round probes every backend's health endpoint (falling back to its
 * model list when it has none) and refreshes discovered model lists, so a model loaded after
 * start-up becomes routable without a restart.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private unhealthyTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  /** Backends with a probe under way: a backend is never probed twice at once. */
  private readonly probing = new Set<Backend>();

  constructor(
    private readonly fleet: Fleet,
    private readonly dispatcher: Dispatcher,
    private readonly options: { intervalS: number; unhealthyIntervalS: number; timeoutS: number },
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    const first = this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalS * 1000);
    this.timer.unref();
    // An engine that was not up yet at start-up, or was ejected, serves again within seconds rather than a whole interval later.
    const { unhealthyIntervalS } = this.options;
    if (unhealthyIntervalS < this.options.intervalS) {
      this.unhealthyTimer = setInterval(() => void this.checkUnhealthy(), unhealthyIntervalS * 1000);
      this.unhealthyTimer.unref();
    }
    return first;
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.unhealthyTimer);
  }

  /** Probes only the backends that are out of service. */
  private checkUnhealthy(): Promise<void> {
    return Promise.all(this.fleet.list().filter((b) => isProbed(b.kind) && !b.healthy).map((b) => this.check(b))).then(() => undefined);
  }

  /** One probe round over the whole fleet; overlapping calls share the round in progress. */
  checkAll(): Promise<void> {
    this.round ??= Promise.all(this.fleet.list().filter((b) => isProbed(b.kind)).map((b) => this.check(b))).then(
      () => {
        this.round = undefined;
      },
    );
    return this.round;
  }

  async check(backend: Backend): Promise<void> {
    // Nothing is sent to a paid API (no probe, no last check): the round only lets a service taken out by failed requests back in for another try.
    if (backend.adapter.passiveHealthOnly) return this.setHealth(backend, { ok: true });
    if (this.probing.has(backend)) return;
    this.probing.add(backend);
    const started = performance.now();
    let result: ProbeResult;
    try {
      result = await this.probe(backend);
    } finally {
      this.probing.delete(backend);
    }
    backend.lastCheck = { at: new Date().toISOString(), ok: result.ok, latencyMs: Math.round(performance.now() - started) };
    if (result.models && backend.discoverModels) this.fleet.setModels(backend, result.models);
    this.setHealth(backend, result);
  }

  private setHealth(backend: Backend, result: ProbeResult): void {
    if (backend.healthy !== result.ok) {
      if (result.ok) this.log.info({ backend: backend.name }, 'backend healthy');
      else this.log.warn({ backend: backend.name, error: result.error }, 'backend unhealthy');
    }
    this.fleet.setHealth(backend, result.ok);
  }

  private async probe(backend: Backend): Promise<ProbeResult> {
    const health = await this.get(backend, backend.basePath + backend.healthPath);
    const healthOk = 'status' in health && health.status < 300;
    const healthMissing = 'status' in health && (health.status === 404 || health.status === 405);
    const listing = backend.discoverModels || healthMissing ? await this.get(backend, openAiPath(backend, '/models')) : undefined;
    const models = listing && 'body' in listing && listing.status < 300 ? parseModelIds(listing.body) : undefined;
    if (healthOk || (healthMissing && models)) return { ok: true, models };
    return { ok: false, error: 'error' in health ? health.error : `health endpoint answered ${health.status}` };
  }

  private async get(backend: Backend, path: string): Promise<{ status: number; body: string } | { error: string }> {
    try {
      const response = await this.dispatcher.request({
        origin: backend.origin,
        path,
        method: 'GET',
        headers: backend.apiKey ? { authorization: `Bearer ${backend.apiKey}` } : {},
        signal: AbortSignal.timeout(this.options.timeoutS * 1000),
      });
      return { status: response.statusCode, body: await readText(response.body, PROBE_MAX_BYTES) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }
}

function parseModelIds(body: string): string[] | undefined {
  try {
    const parsed = JSON.parse(body) as { data?: Array<{ id?: unknown }>; models?: Array<{ name?: unknown }> };
    if (Array.isArray(parsed.data)) return parsed.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
    // Ollama's native /api/tags shape, which some deployments expose at the same path.
    if (Array.isArray(parsed.models)) return parsed.models.map((m) => m.name).filter((id): id is string => typeof id === 'string');
  } catch {
    // a non-JSON model list counts as no list
  }
  return undefined;
}
