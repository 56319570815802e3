import type { AgentDirectory, Admission, CachedResponse, CacheWrite, CooldownOptions, Cooldowns, CooldownView, Correction, KeptResponseLimits, KeptResponses, LimitCharge, ResponseHolders, Revocations, SharedState } from './shared-state.js';

const WINDOW_MS = 60_000;

interface Window {
  used: number;
  endsAt: number;
}

/** Rolling windows: each counter's window opens at its first charge and lasts a minute. */
export class MemoryRateLimiter {
  private readonly windows = new Map<string, Window>();

  charge(charges: readonly LimitCharge[]): Admission {
    const now = Date.now();
    for (const { counter, limit, cost } of charges) {
      const window = this.open(counter, now);
      if (window.used + cost > limit) return { admitted: false, counter, retryAfterMs: window.endsAt - now };
    }
    for (const { counter, cost } of charges) this.open(counter, now).used += cost;
    return { admitted: true };
  }

  adjust({ counters, deltas }: Correction): void {
    const now = Date.now();
    for (let i = 0; i < counters.length; i++) {
      const window = this.windows.get(counters[i]!);
      if (window && window.endsAt > now) window.used = Math.max(0, window.used + deltas[i]!);
    }
  }

  private open(counter: string, now: number): Window {
    let window = this.windows.get(counter);
    if (!window || window.endsAt <= now) {
      if (this.windows.size > 100_000) this.sweep(now);
      window = { used: 0, endsAt: now + WINDOW_MS };
      this.windows.set(counter, window);
    }
    return window;
  }

  private sweep(now: number): void {
    for (const [counter, window] of this.windows) if (window.endsAt <= now) this.windows.delete(counter);
  }
}

export interface CacheLimits {
  maxEntries: number;
  /** Bytes (UTF-8) of cached bodies in all: entries of up to max_entry_bytes each would otherwise add up to gigabytes. */
  maxBytes: number;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = { maxEntries: 10_000, maxBytes: 256 * 1024 * 1024 };

/** A bounded map in insertion order: the oldest entries go first when it is full, by count or by size. */
export class MemoryResponseCache<Value = CachedResponse> {
  private readonly entries = new Map<string, { value: Value; expiresAt: number; size: number }>();
  private bytes = 0;

  constructor(private readonly limits = DEFAULT_CACHE_LIMITS) {}

  get(key: string): Value | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    this.delete(key);
    return undefined;
  }

  set({ key, value, ttlS, bytes: size }: CacheWrite<Value>): void {
    this.delete(key);
    if (size > this.limits.maxBytes) return;
    while (this.entries.size >= this.limits.maxEntries || this.bytes + size > this.limits.maxBytes) this.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: Date.now() + ttlS * 1000, size });
    this.bytes += size;
  }

  /** True when the key had an entry (expired or not). */
  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= entry.size;
    return true;
  }
}

/** The responses the router keeps in this process's memory: a bounded store of their JSON, by size alone. */
export class MemoryKeptResponses implements KeptResponses {
  private readonly responses: MemoryResponseCache<string>;

  constructor(private readonly limits: KeptResponseLimits) {
    this.responses = new MemoryResponseCache({ maxEntries: Infinity, maxBytes: limits.maxBytes });
  }

  keep(key: string, json: string): void {
    this.responses.set({ key, value: json, ttlS: this.limits.ttlS, bytes: Buffer.byteLength(json) });
  }

  async find(key: string): Promise<string | undefined> {
    return this.responses.get(key);
  }

  async forget(key: string): Promise<boolean> {
    return this.responses.delete(key);
  }
}

/** A day, at most 64 MiB: a conversation's next turn comes within minutes or hours, and each kept response holds its whole conversation. */
export const DEFAULT_KEPT_RESPONSE_LIMITS: KeptResponseLimits = { ttlS: 86_400, maxBytes: 64 * 1024 * 1024 };

/** Benched targets as this instance knows them; the Redis state feeds it announcements from the others. */
export class CooldownBoard {
  /** `probeClaimedUntil`: when the current probe claim lapses (0: none). */
  private readonly benched = new Map<string, { until: number; probeClaimedUntil: number }>();

  view(target: string): CooldownView {
    const entry = this.benched.get(target);
    if (!entry) return OK;
    return Date.now() < entry.until ? { state: 'benched', until: entry.until } : { state: 'probing', until: entry.until };
  }

  bench(target: string, until: number): void {
    this.benched.set(target, { until, probeClaimedUntil: 0 });
  }

  recover(target: string): void {
    this.benched.delete(target);
  }

  /**
   * Local probe claim: the first caller after the cooling period wins. The claim lapses after
   * `claimMs`, like the Redis one, so that a probe whose end went unreported cannot keep the
   * target out of service until a restart.
   */
  claimProbe(target: string, claimMs: number): boolean {
    const entry = this.benched.get(target);
    const now = Date.now();
    if (!entry || now < entry.until || now < entry.probeClaimedUntil) return false;
    entry.probeClaimedUntil = now + claimMs;
    return true;
  }

  releaseProbe(target: string): void {
    const entry = this.benched.get(target);
    if (entry) entry.probeClaimedUntil = 0;
  }

  isBenched(target: string): boolean {
    return this.benched.has(target);
  }
}

const OK: CooldownView = { state: 'ok' };
const ADMITTED: Admission = { admitted: true };

export class MemoryCooldowns implements Cooldowns {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly board: CooldownBoard,
    private readonly options: CooldownOptions,
  ) {}

  view(target: string): CooldownView {
    return this.board.view(target);
  }

  async recordFailure(target: string): Promise<void> {
    this.recordFailureNow(target);
  }

  /** Returns the bench end when this failure benched the target. */
  recordFailureNow(target: string): number | undefined {
    const now = Date.now();
    if (this.board.isBenched(target)) {
      // Only a failed probe reaches a benched target; it goes straight back to the bench.
      return this.benchNow(target, now);
    }
    const recent = (this.failures.get(target) ?? []).filter((at) => at > now - this.options.windowS * 1000);
    recent.push(now);
    if (recent.length < this.options.failureThreshold) {
      this.failures.set(target, recent);
      return undefined;
    }
    return this.benchNow(target, now);
  }

  private benchNow(target: string, now: number): number {
    this.failures.delete(target);
    const until = now + this.options.cooldownS * 1000;
    this.board.bench(target, until);
    return until;
  }

  async claimProbe(target: string): Promise<boolean> {
    return this.board.claimProbe(target, this.options.cooldownS * 1000);
  }

  async releaseProbe(target: string): Promise<void> {
    this.board.releaseProbe(target);
  }

  async recordProbeSuccess(target: string): Promise<void> {
    this.board.recover(target);
  }

  forget(target: string): void {
    this.failures.delete(target);
    this.board.recover(target);
  }
}

export class MemoryRevocations implements Revocations {
  readonly revoked = new Set<string>();

  isRevoked(keyHash: string): boolean {
    return this.revoked.has(keyHash);
  }

  async revoke(keyHash: string): Promise<void> {
    this.revoked.add(keyHash);
  }
}

/** `SharedState.admit` on this process's own limits and cache. */
export function admitLocally(
  limits: MemoryRateLimiter,
  cache: MemoryResponseCache,
  charges: readonly LimitCharge[],
  cacheKey: string | undefined,
): { admission: Admission; cached: CachedResponse | undefined } {
  const admission = charges.length === 0 ? ADMITTED : limits.charge(charges);
  return { admission, cached: admission.admitted && cacheKey !== undefined ? cache.get(cacheKey) : undefined };
}

/** `SharedState.settle` on this process's own limits and cache. */
export function settleLocally(limits: MemoryRateLimiter, cache: MemoryResponseCache, correction: Correction | undefined, write: CacheWrite | undefined): void {
  if (correction) limits.adjust(correction);
  if (write) cache.set(write);
}

export function createMemoryState(cooldown: CooldownOptions, cacheLimits?: CacheLimits, keptLimits = DEFAULT_KEPT_RESPONSE_LIMITS): SharedState {
  const limits = new MemoryRateLimiter();
  const cache = new MemoryResponseCache(cacheLimits);
  return {
    kind: 'memory',
    admit: async (charges, cacheKey) => admitLocally(limits, cache, charges, cacheKey),
    settle: async (correction, write) => settleLocally(limits, cache, correction, write),
    addSpend: async () => {},
    cooldowns: new MemoryCooldowns(new CooldownBoard(), cooldown),
    revocations: new MemoryRevocations(),
    agents: UNSHARED_AGENTS,
    responseHolders: UNSHARED_RESPONSE_HOLDERS,
    keptResponses: new MemoryKeptResponses(keptLimits),
    whenReady: async () => true,
    close: async () => {},
  };
}

/** One instance alone: its agents live in its own registry and SQLite, there is nobody to tell. */
const UNSHARED_AGENTS: AgentDirectory = {
  register: async () => undefined,
  heartbeat: async () => {},
  find: async () => undefined,
  forget: async () => {},
  subscribe: () => {},
};

/** One instance alone: it knows every response it relayed, there is nobody else to ask. */
const UNSHARED_RESPONSE_HOLDERS: ResponseHolders = {
  remember: () => {},
  find: async () => undefined,
  forget: () => {},
  onForgotten: () => {},
};
