import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PolicyMetrics } from '../observability/policy-metrics.js';
import { ApiError } from '../server/errors.js';
import type { SharedState } from '../state/shared-state.js';
import type { ApiKeyLimits, ApiKeyRecord, ApiKeyStore, Revocation } from '../store/api-keys.js';
import { budgetExceeded, type CallerIdentifier, type Caller } from './caller.js';
import type { Endpoint, InferenceRequest, Usage } from './inference-request.js';
import type { ModelResolver } from './model-resolver.js';
import { namedModels, takeClientFallbacks } from './client-fallbacks.js';
import type { RateLimitStage, Reservation } from './rate-limit.js';
import { replay, type CachePlan, type ResponseCacheStage } from './response-cache.js';
import { writeApiError } from './relay.js';
import { spendUsd, type PriceTable } from './spend.js';
import { estimatedUsage } from './token-estimate.js';

const SETTLED = Promise.resolve();

/** A request the policies let through, with what must be settled when it ends. */
export interface Admitted {
  caller: Caller;
  reservation: Reservation;
  cache: CachePlan;
  /** Set once settled, so that settling again is a no-op. */
  settled?: boolean;
  /** What the request cost, by the price of the model that served (set when settled; 0 without a price). */
  costUsd?: number;
}

/** A request the policies answered themselves (refused, or served from the cache). */
export interface Answered {
  answered: true;
  status: number;
  /** Set when the cache answered; a refusal has no one who served it. */
  servedBy?: 'cache';
  /** Who asked, when known (a refusal of an unidentified caller has none). */
  caller?: Caller;
}

export interface RequestEnd {
  status: number;
  usage: Usage | undefined;
  /**
   * Completion tokens guessed from what reached the client, set once a backend's answer did (to
   * charge when the backend reports no usage); unset, nothing was generated and nothing is charged.
   */
  relayedTokens: number | undefined;
  /** The fleet model that answered, whose price applies (unset when no backend answered). */
  model: string | undefined;
  /** True when the whole answer reached the client (a stream ended with `[DONE]`). */
  complete: boolean;
  contentType: string | undefined;
  target: string | undefined;
}

/**
 * The stages before and after dispatch: identify the caller → rate limit → cache lookup, and
 * at the end correct the token reservation, record spend and store the answer in the cache.
 * The rate-limit charge and the cache read are one step of the shared state (one Redis script).
 */
export class GatewayPolicies {
  constructor(
    readonly state: SharedState,
    readonly resolver: ModelResolver,
    readonly metrics: PolicyMetrics,
    readonly identifier: CallerIdentifier,
    readonly keys: ApiKeyStore,
    private readonly rateLimit: RateLimitStage,
    readonly cache: ResponseCacheStage,
    private readonly prices: PriceTable,
    private readonly log: Logger,
  ) {}

  /** Creates a key and closes an open router at once, rather than at its next look at the key table. */
  createKey(name: string, limits: ApiKeyLimits): { key: string; record: ApiKeyRecord } {
    const created = this.keys.create(name, limits);
    this.identifier.keyIssued();
    return created;
  }

  /** Revokes a key here and, through the shared state, on every instance. */
  async revokeKey(idOrName: string): Promise<Revocation> {
    const revocation = this.keys.revoke(idOrName);
    if (revocation.outcome === 'revoked') {
      this.identifier.forget(revocation.record.keyHash);
      await this.state.revocations.revoke(revocation.record.keyHash);
    }
    return revocation;
  }

  /** A target's cooldown, as /services and /stats show it. */
  cooldownOf(target: string): { state: string; until: string | null } {
    const view = this.state.cooldowns.view(target);
    return { state: view.state, until: view.state === 'ok' ? null : new Date(view.until).toISOString() };
  }

  async close(): Promise<void> {
    await this.state.close();
  }

  async admit(request: InferenceRequest, res: ServerResponse, headers: OutgoingHttpHeaders): Promise<Admitted | Answered> {
    let caller: Caller | undefined;
    let cache: CachePlan;
    try {
      caller = this.identifier.identify(request.headers, res, request.endpoint === 'messages');
      takeClientFallbacks(request);
      for (const model of namedModels(request.model, request.fallbacks)) this.identifier.authorize(caller, model);
      cache = this.cache.plan(request);
    } catch (error) {
      if (!(error instanceof ApiError)) {
        this.log.error({ err: error, requestId: request.id }, 'identifying the caller failed');
        return this.refuse(res, new ApiError(500, 'Internal router error', 'server_error'), headers, caller, request.endpoint);
      }
      if (error.code === 'insufficient_quota') this.metrics.limited('budget');
      return this.refuse(res, error, headers, caller, request.endpoint);
    }
    const { charges, reservation } = this.rateLimit.plan(caller, request);
    const budgetUsd = caller.key?.budgetUsd;
    const budget = budgetUsd === undefined ? undefined : { keyId: caller.key!.id, budgetUsd };
    const { admission, cached } = await this.state.admit(charges, this.cache.lookupKey(cache), budget);
    if (!admission.admitted && 'overBudget' in admission) {
      this.metrics.limited('budget');
      return this.refuse(res, budgetExceeded(budgetUsd!), headers, caller, request.endpoint);
    }
    const refusal = this.rateLimit.refusal(admission);
    if (refusal) {
      this.metrics.limited(refusal.type === 'tokens' ? 'tpm' : 'rpm');
      return this.refuse(res, refusal, headers, caller, request.endpoint);
    }
    const hit = this.cache.found(cache, cached);
    this.metrics.cacheResult(cache.status);
    if (hit) {
      void this.state.settle(this.rateLimit.correction(reservation, 0), undefined);
      replay(res, hit, { ...headers, 'x-switchyard-cache': 'hit' });
      return { answered: true, status: hit.status, servedBy: 'cache', caller };
    }
    headers['x-switchyard-cache'] = cache.status;
    return { caller, reservation, cache };
  }

  /**
   * The front door of a call that names no model (the Responses API's calls by id): identifies the
   * caller and charges its requests per minute. Nothing is generated, so no tokens are reserved,
   * no budget is checked and nothing is cached.
   */
  async admitCaller(requestHeaders: IncomingHttpHeaders, res: ServerResponse, headers: OutgoingHttpHeaders): Promise<Caller | Answered> {
    let caller: Caller;
    try {
      caller = this.identifier.identify(requestHeaders, res);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return this.refuse(res, error, headers, undefined);
    }
    const charge = this.rateLimit.callerCharge(caller);
    if (charge === undefined) return caller;
    const refusal = this.rateLimit.refusal((await this.state.admit([charge], undefined)).admission);
    if (!refusal) return caller;
    this.metrics.limited('rpm');
    return this.refuse(res, refusal, headers, caller);
  }

  /** Collects the answer's bytes for the cache (a no-op unless the request is cacheable). */
  collect(admitted: Admitted, bytes: Buffer | string, byteLength?: number): void {
    this.cache.collect(admitted.cache, bytes, byteLength);
  }

  /**
   * Corrects the token reservation, records spend and stores a complete answer in the cache. The
   * promise ends when the shared state has taken the change (it never rejects); callers wait for
   * it only to store an answer before the client sees it.
   */
  settle(request: InferenceRequest, admitted: Admitted, end: RequestEnd): Promise<void> {
    if (admitted.settled) return SETTLED;
    admitted.settled = true;
    // Without reported usage, an answer that reached the client is charged an estimate rather than nothing.
    const usage = end.usage ?? (end.relayedTokens === undefined ? undefined : estimatedUsage(request, end.relayedTokens));
    const tokens = usage === undefined ? 0 : (usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0));
    const write = end.status === 200 && end.complete && end.contentType && end.target ? this.cache.entry(admitted.cache, end.contentType, end.target) : undefined;
    const settled = this.state.settle(this.rateLimit.correction(admitted.reservation, tokens), write);
    const usd = end.model === undefined ? 0 : spendUsd(this.prices, end.model, usage);
    admitted.costUsd = usd;
    const key = admitted.caller.key;
    if (key && usd > 0) {
      const knownUsd = key.spentUsd;
      try {
        this.identifier.addSpend(key, usd);
      } catch (error) {
        this.log.error({ err: error, key: key.name, usd }, 'recording spend failed');
      }
      void this.state.addSpend(key.id, usd, knownUsd);
      this.metrics.spent(key.name, usd);
    }
    return settled;
  }

  /** True when the answer will be stored: it is then settled before it is written (see Gateway.relayBuffered). */
  willStore(admitted: Admitted): boolean {
    return admitted.cache.key !== undefined;
  }

  /** `endpoint`: the route whose error shape the answer takes (the OpenAI shape when unset). */
  private refuse(res: ServerResponse, error: ApiError, headers: OutgoingHttpHeaders, caller: Caller | undefined, endpoint?: Endpoint): Answered {
    writeApiError(res, error, headers, endpoint);
    return { answered: true, status: error.status, caller };
  }
}
