import { EventEmitter } from 'node:events';
import { Backend, isEjectable, type BackendSpec } from './backend.js';

const EMPTY: readonly Backend[] = Object.freeze([]);

/**
 * The live set of backends and an index from model name to the healthy backends serving it.
 * The index is rebuilt on the rare changes (health flips, model lists, membership) so that the
 * per-request lookup is one Map read.
 */
export class Fleet extends EventEmitter<{ change: []; models: [backend: Backend]; removed: [name: string] }> {
  private readonly backends = new Map<string, Backend>();
  private healthyByModel = new Map<string, readonly Backend[]>();
  private allModels = new Set<string>();
  private unlisted: Backend | undefined;

  constructor(private readonly failureThreshold: number) {
    super();
  }

  add(spec: BackendSpec): Backend {
    const backend = new Backend(spec);
    this.backends.set(backend.name, backend);
    this.reindex();
    return backend;
  }

  /** Emits `removed` once the backend is gone (before `change`), so that per-name state elsewhere can be dropped. */
  remove(name: string): void {
    if (!this.backends.delete(name)) return;
    this.emit('removed', name);
    this.reindex();
  }

  get(name: string): Backend | undefined {
    return this.backends.get(name);
  }

  list(): Backend[] {
    return [...this.backends.values()];
  }

  /** Healthy backends serving `model`, in a stable order. */
  candidates(model: string): readonly Backend[] {
    return this.healthyByModel.get(model) ?? EMPTY;
  }

  /** True when some backend (healthy or not) lists the model. */
  knows(model: string): boolean {
    return this.allModels.has(model);
  }

  /** Models served by at least one healthy backend. */
  servedModels(): string[] {
    return [...this.healthyByModel.keys()].sort();
  }

  setHealth(backend: Backend, healthy: boolean): void {
    if (backend.healthy === healthy) return;
    backend.healthy = healthy;
    if (healthy) backend.consecutiveFailures = 0;
    this.reindex();
  }

  /** Replaces a backend's model list; emits `models` when that changed it. */
  setModels(backend: Backend, models: Iterable<string>): void {
    const next = new Set(models);
    const firstList = !backend.modelsKnown;
    backend.modelsKnown = true;
    if (next.size === backend.models.size && [...next].every((m) => backend.models.has(m))) {
      if (firstList) this.reindex();
      return;
    }
    backend.models = next;
    this.reindex();
    this.emit('models', backend);
  }

  /** A service in discovery mode that has never said which models it serves: any unknown name may be one of them. */
  awaitingModels(): Backend | undefined {
    return this.unlisted;
  }

  /** Passive ejection: enough consecutive failures take a backend out until a probe passes. */
  recordFailure(backend: Backend, message: string): void {
    backend.recordError(message);
    backend.consecutiveFailures++;
    if (isEjectable(backend.kind) && backend.consecutiveFailures >= this.failureThreshold) this.setHealth(backend, false);
  }

  private reindex(): void {
    const healthy = new Map<string, Backend[]>();
    const all = new Set<string>();
    for (const backend of this.backends.values()) {
      for (const model of backend.models) {
        all.add(model);
        if (!backend.healthy) continue;
        let list = healthy.get(model);
        if (!list) healthy.set(model, (list = []));
        list.push(backend);
      }
    }
    this.healthyByModel = healthy;
    this.allModels = all;
    this.unlisted = [...this.backends.values()].find((backend) => !backend.modelsKnown);
    this.emit('change');
  }
}
