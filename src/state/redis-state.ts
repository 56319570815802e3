import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { admitLocally, settleLocally, CooldownBoard, DEFAULT_CACHE_LIMITS, DEFAULT_KEPT_RESPONSE_LIMITS, MemoryCooldowns, MemoryKeptResponses, MemoryRateLimiter, MemoryResponseCache, MemoryRevocations, type CacheLimits } from './memory-state.js';
import { failFastOptions, FailureRest, OutageNotice, whenReady } from './redis-connection.js';
import { RedisBatch } from './redis-batch.js';
import { AGENT_FORGET, AGENT_HEARTBEAT, AGENT_REGISTER, BATCH, DROP_KEPT_RESPONSE, KEEP_RESPONSE, RECORD_FAILURE, RECOVER, RESPONSE_FORGET, REVOKE } from './redis-scripts.js';
import type { AgentAnnouncements, AgentDirectory, Admission, BudgetCheck, CachedResponse, CacheWrite, CooldownOptions, CooldownView, Correction, KeptResponseLimits, KeptResponses, LimitCharge, ResponseHolder, ResponseHolders, SharedAgent, SharedState } from './shared-state.js';

const WINDOW_MS = 60_000;
/**
 * How long the replica holding a response is remembered for the other instances. A conversation's
 * next turn comes within seconds or minutes, and an hour leaves room for a pause; unbounded, the
 * keys (about 100 bytes each) would pile up with every response ever made, while the engines
 * themselves keep their stores in memory and lose them on restart.
 */
const RESPONSE_HOLDER_TTL_S = 3600;

export interface RedisStateOptions {
  url: string;
  keyPrefix: string;
  commandTimeoutMs: number;
  cooldown: CooldownOptions;
  /** Of the shared cache, and of the local one that stands in while Redis is away. */
  cacheLimits?: CacheLimits;
  /** Of the responses the router keeps, in Redis and in the local store that stands in while Redis is away. */
  keptLimits?: KeptResponseLimits;
}

type Scripted = Redis & {
  batch(...args: Array<string | number>): Promise<unknown[]>;
  recordFailure(...args: Array<string | number>): Promise<number>;
  recover(...args: string[]): Promise<number>;
  revoke(...args: string[]): Promise<number>;
  agentRegister(...args: Array<string | number>): Promise<number>;
  agentHeartbeat(...args: Array<string | number>): Promise<number>;
  agentForget(...args: Array<string | number>): Promise<number>;
  responseForget(...args: string[]): Promise<number>;
  keepResponse(...args: Array<string | number>): Promise<number>;
  dropKeptResponse(...args: string[]): Promise<number>;
};

type Announcement =
  | { type: 'bench'; target: string; until: number }
  | { type: 'recover'; target: string }
  | { type: 'revoke'; hash: string }
  | { type: 'agent'; at: number; agent: Omit<SharedAgent, 'lastHeartbeatMs'> }
  | { type: 'agent-beat'; at: number; name: string }
  | { type: 'agent-forgotten'; name: string }
  | { type: 'response-forgotten'; id: string };

/**
 * Shared state in Redis. Every operation is one script or command, auto-pipelined with whatever
 * else is in flight; the per-request admits and settles of a loop turn go as one script call. Redis being unreachable never blocks a request: commands fail fast (no
 * offline queue, short timeout) and the instance carries on with its local memory state until
 * ioredis reconnects; announcements keep the local view of benched targets and revoked keys in
 * step with the other instances.
 */
export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  private readonly client: Scripted;
  private readonly subscriber: Redis;
  private readonly batch: RedisBatch;
  private readonly channel: string;
  private readonly board = new CooldownBoard();
  private readonly local: { limits: MemoryRateLimiter; cache: MemoryResponseCache; cooldowns: MemoryCooldowns; revocations: MemoryRevocations; kept: MemoryKeptResponses };
  private readonly keptLimits: KeptResponseLimits;
  /** Revocations made while Redis was away, sent when it is back. */
  private readonly pendingRevocations = new Set<string>();
  /** Agents forgotten (retired or expired) while Redis was away, with the heartbeat time they were forgotten at. */
  private readonly pendingForgets = new Map<string, number>();
  private readonly outage: OutageNotice;
  private readonly rest = new FailureRest();
  private agentListener: AgentAnnouncements | undefined;
  private responseForgottenListener: ((responseId: string) => void) | undefined;

  constructor(
    private readonly options: RedisStateOptions,
    log: Logger,
  ) {
    const common = failFastOptions(options.commandTimeoutMs);
    this.outage = new OutageNotice(log, options.url, { lost: 'redis unreachable or failing: serving with local state until it is back', back: 'redis reachable again: shared state restored' });
    this.channel = `${options.keyPrefix}events`;
    this.client = new Redis(options.url, {
      ...common,
      keyPrefix: options.keyPrefix,
      enableAutoPipelining: true,
      // Already a batch: written to the socket as soon as it is made. A response's holder (SET) is
      // written before its answer leaves: a client continuing it at once through another instance
      // must find it there, and an auto-pipelined command waits for the next loop turn. A deleted
      // response's forgetting (responseForget) likewise reaches the other instances before the answer,
      // and so does a response the router keeps itself (keepResponse, dropKeptResponse).
      autoPipeliningIgnoredCommands: ['batch', 'set', 'responseForget', 'keepResponse', 'dropKeptResponse'],
    }) as Scripted;
    this.client.defineCommand('batch', { lua: BATCH });
    const cacheLimits = options.cacheLimits ?? DEFAULT_CACHE_LIMITS;
    this.keptLimits = options.keptLimits ?? DEFAULT_KEPT_RESPONSE_LIMITS;
    this.batch = new RedisBatch(WINDOW_MS, cacheLimits, (keys, args) => this.client.batch(keys.length, ...keys, ...args));
    this.client.defineCommand('recordFailure', { numberOfKeys: 3, lua: RECORD_FAILURE });
    this.client.defineCommand('recover', { numberOfKeys: 2, lua: RECOVER });
    this.client.defineCommand('revoke', { numberOfKeys: 1, lua: REVOKE });
    this.client.defineCommand('agentRegister', { numberOfKeys: 2, lua: AGENT_REGISTER });
    this.client.defineCommand('agentHeartbeat', { numberOfKeys: 2, lua: AGENT_HEARTBEAT });
    this.client.defineCommand('agentForget', { numberOfKeys: 2, lua: AGENT_FORGET });
    this.client.defineCommand('responseForget', { numberOfKeys: 1, lua: RESPONSE_FORGET });
    this.client.defineCommand('keepResponse', { numberOfKeys: KEPT_INDEX_KEYS.length + 1, lua: KEEP_RESPONSE });
    this.client.defineCommand('dropKeptResponse', { numberOfKeys: KEPT_INDEX_KEYS.length + 1, lua: DROP_KEPT_RESPONSE });
    this.client.on('error', (error: Error) => this.outage.lost(error));
    this.client.on('ready', () => void this.resync());
    // Subscriptions use their own connection; channel names are not key-prefixed by ioredis.
    this.subscriber = new Redis(options.url, { ...common, commandTimeout: undefined });
    this.subscriber.on('error', () => {});
    this.subscriber.on('ready', () => void this.subscriber.subscribe(this.channel).catch(() => {}));
    this.subscriber.on('message', (_channel: string, message: string) => this.apply(message));
    this.local = {
      limits: new MemoryRateLimiter(),
      cache: new MemoryResponseCache(cacheLimits),
      cooldowns: new MemoryCooldowns(this.board, options.cooldown),
      revocations: new MemoryRevocations(),
      kept: new MemoryKeptResponses(this.keptLimits),
    };
  }

  /** Connected, and not resting after a failed command: whether calls try Redis. */
  get up(): boolean {
    return this.client.status === 'ready' && !this.rest.resting;
  }

  /** Connected, and no command failed since one last succeeded: what `switchyard_redis_up` shows, so that a hung Redis reads as down between its rests too. */
  get reachable(): boolean {
    return this.client.status === 'ready' && !this.rest.failing;
  }

  admit(charges: readonly LimitCharge[], cacheKey: string | undefined, budget?: BudgetCheck): Promise<{ admission: Admission; cached: CachedResponse | undefined }> {
    if (charges.length === 0 && cacheKey === undefined && !budget) return Promise.resolve(NOTHING_TO_DO);
    return this.attempt(
      async () => {
        const spend = budget && { counter: spendCounter(budget.keyId), limit: nanoUsd(budget.budgetUsd) };
        const [index, ttl, entry] = await this.batch.admit(charges, cacheKey === undefined ? undefined : `cache:${cacheKey}`, spend);
        if (index === -1) return { admission: OVER_BUDGET, cached: undefined };
        if (index !== 0) return { admission: { admitted: false as const, counter: charges[index - 1]!.counter, retryAfterMs: ttl }, cached: undefined };
        return { admission: ADMITTED, cached: entry ? (JSON.parse(entry) as CachedResponse) : undefined };
      },
      () => admitLocally(this.local.limits, this.local.cache, charges, cacheKey),
    );
  }

  settle(correction: Correction | undefined, write: CacheWrite | undefined): Promise<void> {
    if (!correction && !write) return Promise.resolve();
    return this.attempt(
      async () => {
        await this.batch.settle(correction, write && { ...write, key: `cache:${write.key}` });
      },
      () => settleLocally(this.local.limits, this.local.cache, correction, write),
    );
  }

  /** Spend is kept in nano-dollars, an integer that INCRBY adds exactly. */
  addSpend(keyId: string, usd: number, knownUsd: number): Promise<void> {
    return this.attempt(
      async () => void (await this.batch.spend(spendCounter(keyId), nanoUsd(usd), nanoUsd(knownUsd))),
      () => {},
    );
  }

  readonly cooldowns = {
    view: (target: string): CooldownView => this.board.view(target),
    recordFailure: (target: string): Promise<void> =>
      this.attempt(
        async () => {
          const { failureThreshold, windowS, cooldownS } = this.options.cooldown;
          const until = await this.client.recordFailure(`fails:${target}`, 'benched', `probe:${target}`, target, failureThreshold, windowS * 1000, cooldownS * 1000, Date.now(), this.channel);
          // Announcements come back through the subscription too; applying at once keeps this instance exact.
          if (until > 0) this.board.bench(target, until);
        },
        () => void this.local.cooldowns.recordFailureNow(target),
      ),
    claimProbe: (target: string): Promise<boolean> =>
      this.attempt(
        async () => (await this.client.set(`probe:${target}`, '1', 'PX', this.options.cooldown.cooldownS * 1000, 'NX')) === 'OK',
        () => this.board.claimProbe(target, this.options.cooldown.cooldownS * 1000),
      ),
    releaseProbe: (target: string): Promise<void> => {
      this.board.releaseProbe(target);
      return this.attempt(
        async () => void (await this.client.del(`probe:${target}`)),
        () => {},
      );
    },
    recordProbeSuccess: (target: string): Promise<void> => {
      this.board.recover(target);
      return this.attempt(
        async () => void (await this.client.recover('benched', `probe:${target}`, target, this.channel)),
        () => {},
      );
    },
    forget: (target: string): void => {
      this.local.cooldowns.forget(target);
      // The shared record goes too: a departed agent's bench would otherwise come back into every instance's view when it resyncs.
      void this.attempt(
        async () => void (await Promise.all([this.client.hdel('benched', target), this.client.del(`fails:${target}`, `probe:${target}`)])),
        () => {},
      );
    },
  };

  readonly revocations = {
    isRevoked: (keyHash: string): boolean => this.local.revocations.isRevoked(keyHash),
    revoke: (keyHash: string): Promise<void> => {
      this.local.revocations.revoked.add(keyHash);
      return this.attempt(
        async () => void (await this.client.revoke('revoked', keyHash, this.channel)),
        () => void this.pendingRevocations.add(keyHash),
      );
    },
  };

  /**
   * Registrations in a hash (name → endpoint and models) and heartbeat times in another, announced
   * on the events channel. Every instance expires an agent by the same stored heartbeat time.
   */
  readonly agents: AgentDirectory = {
    register: (agent: SharedAgent, maxAgents: number): Promise<boolean | undefined> =>
      this.attempt(
        async () => (await this.client.agentRegister('agents', 'agent-beats', agent.name, registrationJson(agent), agent.lastHeartbeatMs, this.channel, maxAgents)) === 1,
        () => undefined,
      ),
    heartbeat: (agent: SharedAgent): Promise<void> =>
      this.attempt(
        async () => void (await this.client.agentHeartbeat('agents', 'agent-beats', agent.name, registrationJson(agent), agent.lastHeartbeatMs, this.channel)),
        () => {},
      ),
    find: (name: string): Promise<SharedAgent | undefined> =>
      this.attempt(
        async () => {
          const [registration, at] = await Promise.all([this.client.hget('agents', name), this.client.hget('agent-beats', name)]);
          return registration ? { ...(JSON.parse(registration) as Omit<SharedAgent, 'lastHeartbeatMs'>), lastHeartbeatMs: Number(at ?? 0) } : undefined;
        },
        () => undefined,
      ),
    forget: (name: string, heardUntilMs: number): Promise<void> =>
      this.attempt(
        async () => void (await this.client.agentForget('agents', 'agent-beats', name, heardUntilMs, this.channel)),
        // Handed over once Redis answers again, before its registrations are reloaded: else they would bring the agent back.
        () => void this.pendingForgets.set(name, heardUntilMs),
      ),
    subscribe: (listener: AgentAnnouncements): void => {
      this.agentListener = listener;
      if (this.up) void this.loadAgents().catch((error: Error) => this.outage.lost(error));
    },
  };

  /**
   * One key per response (`response:<id>` → `["replica","model","owner key id"]`, the owner null on an open router), each expiring on its own. The
   * SET is written to the socket at once (not auto-pipelined) and not waited for: it is in Redis
   * before any lookup the answer can give rise to.
   */
  readonly responseHolders: ResponseHolders = {
    remember: (responseId: string, { replica, model, owner }: ResponseHolder): void =>
      void this.attempt(
        async () => void (await this.client.set(responseHolderKey(responseId), JSON.stringify([replica, model, owner ?? null]), 'EX', RESPONSE_HOLDER_TTL_S)),
        () => {},
      ),
    find: (responseId: string): Promise<ResponseHolder | undefined> =>
      this.attempt(
        async () => holderOfValue(await this.client.get(responseHolderKey(responseId))),
        () => undefined,
      ),
    forget: (responseId: string): void =>
      void this.attempt(
        async () => void (await this.client.responseForget(responseHolderKey(responseId), this.channel, responseId)),
        () => {},
      ),
    onForgotten: (listener: (responseId: string) => void): void => void (this.responseForgottenListener = listener),
  };

  /**
   * Each response a key of its own (`kept:<key>`, its JSON, expiring on its own), in an index that
   * bounds them by size in all as the shared cache is (see BOUNDED_STORE). Kept and dropped by
   * scripts written to the socket at once: a continuation through another instance finds the
   * response there as soon as its answer has left. While Redis is away, this instance keeps and
   * finds them in its own memory, and still finds them there once Redis is back (which has none of
   * them), for its clients' conversations to go on.
   */
  readonly keptResponses: KeptResponses = {
    keep: (key: string, json: string): void =>
      void this.attempt(
        async () => void (await this.client.keepResponse(keptResponseKey(key), ...KEPT_INDEX_KEYS, json, this.keptLimits.ttlS * 1000, Number.MAX_SAFE_INTEGER, this.keptLimits.maxBytes)),
        () => this.local.kept.keep(key, json),
      ),
    find: (key: string): Promise<string | undefined> =>
      this.attempt(
        async () => (await this.client.get(keptResponseKey(key))) ?? (await this.local.kept.find(key)),
        () => this.local.kept.find(key),
      ),
    forget: (key: string): Promise<boolean> =>
      this.attempt(
        async () => {
          const keptHere = await this.local.kept.forget(key);
          return (await this.client.dropKeptResponse(keptResponseKey(key), ...KEPT_INDEX_KEYS)) === 1 || keptHere;
        },
        () => this.local.kept.forget(key),
      ),
  };

  /** Resolves true once connected, false after `timeoutMs` (for one-shot users such as the CLI). */
  whenReady(timeoutMs: number): Promise<boolean> {
    return whenReady(this.client, timeoutMs);
  }

  async close(): Promise<void> {
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  /**
   * Runs `remote` when Redis is up, else (or when it fails) `local`, so a request never waits on a
   * dead Redis. A Redis that is connected but does not answer (hung, overloaded) would cost every
   * request a command timeout: after a failure the shared state rests for a while, requests are
   * served locally at once, and the first call after the rest tries Redis again.
   */
  private async attempt<T>(remote: () => Promise<T>, local: () => T | Promise<T>): Promise<T> {
    if (!this.up) return local();
    try {
      const result = await remote();
      // What this instance decided alone meanwhile (revocations) is handed over, as after a reconnection.
      if (this.rest.end()) void this.resync();
      return result;
    } catch (error) {
      this.outage.lost(error as Error);
      this.rest.begin();
      return local();
    }
  }

  /** On (re)connect: take in what other instances decided meanwhile, and hand over what this one did alone. */
  private async resync(): Promise<void> {
    try {
      for (const hash of this.pendingRevocations) await this.client.revoke('revoked', hash, this.channel);
      this.pendingRevocations.clear();
      for (const [name, heardUntilMs] of this.pendingForgets) await this.client.agentForget('agents', 'agent-beats', name, heardUntilMs, this.channel);
      this.pendingForgets.clear();
      const [benched, revoked] = await Promise.all([this.client.hgetall('benched'), this.client.smembers('revoked'), this.loadAgents()]);
      for (const [target, until] of Object.entries(benched)) this.board.bench(target, Number(until));
      for (const hash of revoked) this.local.revocations.revoked.add(hash);
      this.rest.end();
      this.outage.back();
    } catch (error) {
      this.outage.lost(error as Error);
    }
  }

  /** Hands every shared registration, with its heartbeat time, to the agent registry. */
  private async loadAgents(): Promise<void> {
    const listener = this.agentListener;
    if (!listener) return;
    const [registrations, beats] = await Promise.all([this.client.hgetall('agents'), this.client.hgetall('agent-beats')]);
    for (const [name, registration] of Object.entries(registrations)) {
      listener.registered({ ...(JSON.parse(registration) as Omit<SharedAgent, 'lastHeartbeatMs'>), lastHeartbeatMs: Number(beats[name] ?? 0) });
    }
  }

  private apply(message: string): void {
    let event: Announcement;
    try {
      event = JSON.parse(message) as Announcement;
    } catch {
      return;
    }
    if (event.type === 'bench') this.board.bench(event.target, event.until);
    else if (event.type === 'recover') this.board.recover(event.target);
    else if (event.type === 'revoke') this.local.revocations.revoked.add(event.hash);
    else if (event.type === 'agent') this.agentListener?.registered({ ...event.agent, lastHeartbeatMs: event.at });
    else if (event.type === 'agent-beat') this.agentListener?.beat(event.name, event.at);
    else if (event.type === 'agent-forgotten') this.agentListener?.forgotten(event.name);
    else if (event.type === 'response-forgotten') this.responseForgottenListener?.(event.id);
  }
}

const ADMITTED: Admission = { admitted: true };
const OVER_BUDGET: Admission = { admitted: false, overBudget: true };
const NOTHING_TO_DO = { admission: ADMITTED, cached: undefined };

const spendCounter = (keyId: string) => `spend:${keyId}`;
const nanoUsd = (usd: number) => Math.round(usd * 1e9);
const responseHolderKey = (responseId: string) => `response:${responseId}`;
const keptResponseKey = (key: string) => `kept:${key}`;
/** The index of the kept responses in Redis (see BOUNDED_STORE): their keys by expiry time, their sizes, and the sizes' total. */
const KEPT_INDEX_KEYS = ['kept-index', 'kept-sizes', 'kept-bytes'] as const;

/** A response holder as stored: `["replica","model","owner key id"]` (the owner null or, from earlier versions, absent), or the replica's name alone (older still). */
function holderOfValue(value: string | null): ResponseHolder | undefined {
  if (value === null) return undefined;
  if (value.startsWith('[')) {
    try {
      const [replica, model, owner] = JSON.parse(value) as unknown[];
      if (typeof replica === 'string' && typeof model === 'string') return { replica, model, owner: typeof owner === 'string' ? owner : undefined };
    } catch {
      // A replica whose name merely starts with a bracket.
    }
  }
  return { replica: value, model: undefined, owner: undefined };
}

const registrationJson = ({ name, endpoint, models }: SharedAgent) => JSON.stringify({ name, endpoint, models });
