/**
 * Runtime state that several router instances may share. Callers see only these interfaces; the
 * memory and Redis implementations behave alike, so the choice never leaks into the gateway.
 */

/** One counter to charge against a limit within a rolling window that starts at its first charge. */
export interface LimitCharge {
  /** Counter name, e.g. `rpm:key:abc` (the implementation namespaces it). */
  counter: string;
  limit: number;
  cost: number;
}

export type Admission = { admitted: true } | { admitted: false; counter: string; retryAfterMs: number } | { admitted: false; overBudget: true };

/** A key with a budget: its spend as every instance recorded it must stay below the budget. */
export interface BudgetCheck {
  keyId: string;
  budgetUsd: number;
}

/** Token reservations replaced by the real count: `deltas[i]` added to `counters[i]` if its window is still open. */
export interface Correction {
  counters: readonly string[];
  deltas: readonly number[];
}

export interface CachedResponse {
  status: number;
  contentType: string;
  /** The body as sent; a streamed answer keeps its original chunking. */
  chunks: string[];
  target: string;
  /** When it was stored (ms since the epoch), for requests that accept only recent entries; absent in entries of older versions. */
  storedAt?: number;
}

/** An entry for a bounded store: the response cache's (a CachedResponse), or a response the router keeps (its JSON). */
export interface CacheWrite<Value = CachedResponse> {
  key: string;
  value: Value;
  ttlS: number;
  /** The body's size in UTF-8 bytes, as counted while it was relayed. */
  bytes: number;
}

export type CooldownView = { state: 'ok' } | { state: 'benched'; until: number } | { state: 'probing'; until: number };

export interface CooldownOptions {
  failureThreshold: number;
  windowS: number;
  cooldownS: number;
}

export interface Cooldowns {
  /** What this instance knows now (kept current by announcements); synchronous so routing stays cheap. */
  view(target: string): CooldownView;
  /** Counts a failure; enough within the window bench the target everywhere. A failed probe benches at once. */
  recordFailure(target: string): Promise<void>;
  /**
   * After the cooling period exactly one caller (across instances) wins the right to send the
   * probe. The claim lapses after `cooldownS` in case its holder never reports a verdict.
   */
  claimProbe(target: string): Promise<boolean>;
  /** A probe that ended without a verdict (never sent, or the client went away): another request may probe. */
  releaseProbe(target: string): Promise<void>;
  /** A successful probe returns the target to service everywhere. */
  recordProbeSuccess(target: string): Promise<void>;
  /** Drops what this instance holds about a target gone for good (a retired or forgotten agent): departed names must not pile up. */
  forget(target: string): void;
}

export interface Revocations {
  isRevoked(keyHash: string): boolean;
  /** Refuses the key on every instance from now on. */
  revoke(keyHash: string): Promise<void>;
}

/** An agent's registration and the time of its last heartbeat (epoch ms), as every instance sees it. */
export interface SharedAgent {
  name: string;
  endpoint: string;
  models: string[];
  lastHeartbeatMs: number;
}

export interface AgentAnnouncements {
  /** A registration made on any instance (this one included), or found on (re)connect. */
  registered(agent: SharedAgent): void;
  /** A heartbeat received by any instance. */
  beat(name: string, atMs: number): void;
  /** An agent retired, or forgotten after its long silence, by any instance. */
  forgotten(name: string): void;
}

/** Agent registrations and heartbeats shared by the instances, so any of them can route an agent and expire it alike. */
export interface AgentDirectory {
  /**
   * Registers the agent for every instance unless it is a new name and `maxAgents` are registered
   * across them: true when registered, false when refused, undefined when nothing is shared (one
   * instance alone, or the shared store is away): the instance then counts its own agents.
   */
  register(agent: SharedAgent, maxAgents: number): Promise<boolean | undefined>;
  /** Records the beat; `agent` is stored again if the shared store lost it (a Redis restart). */
  heartbeat(agent: SharedAgent): Promise<void>;
  /** The shared registration of an agent this instance has not heard of. */
  find(name: string): Promise<SharedAgent | undefined>;
  /** Removes the agent's registration and heartbeat for every instance, unless a heartbeat later than `heardUntilMs` was recorded. */
  forget(name: string, heardUntilMs: number): Promise<void>;
  subscribe(listener: AgentAnnouncements): void;
}

/** Who holds a stored Responses API answer: the replica that produced it, and the model its request named. */
export interface ResponseHolder {
  replica: string;
  /** Unknown only when an instance of an earlier version recorded the holder (it shared the replica alone). */
  model: string | undefined;
  /** The id of the API key whose request made the response: only that key may continue, retrieve, delete or cancel it. Undefined when no key was in force. */
  owner: string | undefined;
}

/** Which replica produced each stored Responses API answer, as the instances tell each other (see ResponseAffinity). */
export interface ResponseHolders {
  /** Tells the other instances who holds the response; never waited on. */
  remember(responseId: string, holder: ResponseHolder): void;
  /** The holder another instance recorded for the response: undefined when none did, nothing is shared, or the shared store is away. */
  find(responseId: string): Promise<ResponseHolder | undefined>;
  /** Tells the other instances the response is gone (deleted); never waited on. */
  forget(responseId: string): void;
  /** Calls `listener` with the id of each response an instance forgets (this one included), as soon as it is told. */
  onForgotten(listener: (responseId: string) => void): void;
}

/** The bounds of the responses the router keeps itself (see KeptResponses). */
export interface KeptResponseLimits {
  /** How long each is kept. */
  ttlS: number;
  /** Bytes (UTF-8) of their JSON in all: the oldest go first past it, and one larger is not kept. */
  maxBytes: number;
}

/**
 * Responses the router keeps itself, as JSON, by key: those it answered through its chat bridge for
 * targets that keep none (see gateway/bridged-responses.ts), for every instance to continue,
 * retrieve or delete. Each expires on its own, within KeptResponseLimits.
 */
export interface KeptResponses {
  /** Keeps `json` under `key`: sent at once, before the answer leaves, and never waited on. */
  keep(key: string, json: string): void;
  find(key: string): Promise<string | undefined>;
  /** Drops the response; true when it was kept. */
  forget(key: string): Promise<boolean>;
}

export interface SharedState {
  readonly kind: 'memory' | 'redis';
  /**
   * The per-request front door, in one step (one Redis round trip): charges every counter or
   * none (when any would exceed its limit nothing is charged and the first offending counter is
   * named, with the time until its window ends) and, when admitted, reads the cache entry.
   */
  admit(charges: readonly LimitCharge[], cacheKey: string | undefined, budget?: BudgetCheck): Promise<{ admission: Admission; cached: CachedResponse | undefined }>;
  /** The back door, in one step: corrects token reservations (never below zero) and stores an answer. */
  settle(correction: Correction | undefined, write: CacheWrite | undefined): Promise<void>;
  /**
   * Adds a request's cost to its key's spend as all instances see it (`knownUsd`: what this
   * instance has recorded so far, the starting point when the shared total does not exist yet).
   * Alone, an instance's own record (SQLite) is the whole truth and this does nothing.
   */
  addSpend(keyId: string, usd: number, knownUsd: number): Promise<void>;
  readonly cooldowns: Cooldowns;
  readonly revocations: Revocations;
  readonly agents: AgentDirectory;
  readonly responseHolders: ResponseHolders;
  readonly keptResponses: KeptResponses;
  /** Resolves true once the state is usable, false after `timeoutMs` (the router then starts on local state). */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}
