import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { FailureTrigger } from '../config/policies-schema.js';
import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { PolicyMetrics } from '../observability/policy-metrics.js';
import type { RouteOutcome, RouteRequest, RoutingPolicy } from '../routing/policy.js';
import { continuedResponse, mayUse, usableHolder, type ResponseAffinity } from '../routing/response-affinity.js';
import { ApiError, badGateway, noHealthyBackend } from '../server/errors.js';
import type { Cooldowns } from '../state/shared-state.js';
import { abortError, CLIENT_GONE_ERROR, stoppedByDeadline, type RequestAbort } from './abort.js';
import { countBackendTrouble } from './backend-trouble.js';
import { continuationOf, continuationRefusal, continuedModelRefusal, seenBy, type BridgedResponses, type Continuation } from './bridged-responses.js';
import type { Caller } from './caller.js';
import { backoffMs, classifyAnswer, classifyError, classifyStatus, type AttemptFailure } from './failure.js';
import type { UpstreamCall } from '../providers/adapter.js';
import type { InferenceRequest } from './inference-request.js';
import type { ModelResolver, RouteStep, RouteTarget } from './model-resolver.js';
import { callUpstream, type UpstreamResponse } from '../upstream/call.js';
import { endUpstream, startUpstream, type UpstreamTiming } from './upstream-time.js';

/** A backend's answer, with its in-flight count still raised until the relay ends. */
export interface Dispatched {
  backend: Backend;
  /** The fleet model that answered (the group's target or the fallback, not always the one asked for): what the provider bills. */
  model: string;
  response: UpstreamResponse;
  /** The body, when it was read to judge an error answer. */
  body?: Buffer;
  /** Set when this answer's failure was already counted against the backend, and reported to the routing policy that picked it. */
  failureRecorded?: boolean;
  /** Set when this request is the single probe of a benched backend. */
  probe?: boolean;
}

/** Nothing to relay: an error of the router's own. */
export interface Exhausted {
  error: ApiError;
}

export interface AttemptOptions {
  maxAttempts: number;
  retryOn: readonly FailureTrigger[];
  fallbackOn: readonly FailureTrigger[];
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxWaitS: number;
  attemptTimeoutS: number | undefined;
  /** Non-streamed answers (and error bodies) longer than this are a 502: the router holds them whole. */
  maxResponseBytes: number;
}

export interface AttemptAccount extends UpstreamTiming {
  retries: number;
  /** How many usable replicas the routing policy chose the last attempt's backend among (for the request log's routing decision). */
  candidates?: number;
  /** Whether that choice left out replicas the request had already tried: a retry on another replica. */
  untriedOnly?: boolean;
  /** Whether the last attempt was a benched backend's probe, which no policy chose. */
  probe?: boolean;
  /** Models of the fallback chain moved on to. */
  fallbacks?: number;
  /** The last backend the request was sent to: the target of an answer none gave (timeout, abort, retries run out). */
  tried?: string;
  /** Who asked, once identified (refused and cached requests included). */
  caller?: Caller;
}

interface Choice {
  backend: Backend;
  target: RouteTarget;
  /** The request as the routing policy saw it when it picked `backend`; undefined for a benched backend's probe, which no policy picked. */
  pick: RouteRequest | undefined;
}

/** `refused`: the request cannot be expressed for this target (the client's error) or was aborted. */
/** `suspect`: the failure may be the request's doing, and counts against the backend only once the request is answered with a success (see mayBeTheRequests in backend-trouble.ts). */
type Outcome = { dispatched: Dispatched } | { failure: AttemptFailure; final?: Dispatched; suspect?: boolean } | { refused: ApiError };

/** Failures that say the backend itself is in trouble (not the request). */
const BACKEND_TROUBLE = new Set<FailureTrigger>(['connection', 'timeout', 'rate_limit', 'server_error']);
/** The outcome of an attempt that will not be relayed (failed, refused or aborted), for the policy that picked it: it releases what the pick claimed. */
const ABANDONED: RouteOutcome = Object.freeze({ ok: false, ttftS: undefined, usage: undefined });

/**
 * Dispatch with retries and fallbacks, all before any byte reached the client: each model of the
 * chain gets up to `maxAttempts` attempts over its targets' replicas (untried replicas first, then
 * the same ones again after an exponential, jittered backoff or the upstream's `retry-after`);
 * when they are spent for a `fallbackOn` reason the next model of the chain is tried. Benched
 * backends are skipped, except for one probe request once their cooling period is over.
 */
export class AttemptRunner {
  private readonly retryOn: ReadonlySet<FailureTrigger>;
  private readonly fallbackOn: ReadonlySet<FailureTrigger>;

  constructor(
    private readonly fleet: Fleet,
    private readonly resolver: ModelResolver,
    private readonly policy: RoutingPolicy,
    private readonly dispatcher: Dispatcher,
    private readonly cooldowns: Cooldowns,
    private readonly metrics: PolicyMetrics,
    private readonly log: Logger,
    private readonly options: AttemptOptions,
    private readonly responses: ResponseAffinity,
    private readonly bridged: BridgedResponses,
  ) {
    this.retryOn = new Set(options.retryOn);
    this.fallbackOn = new Set(options.fallbackOn);
  }

  async run(request: InferenceRequest, signal: RequestAbort, account: AttemptAccount): Promise<Dispatched | Exhausted> {
    const steps = this.resolver.steps(request.model, request.fallbacks);
    // The response a Responses API request continues: kept by the router (answered through its chat bridge), or
    // held by a replica, tried first wherever it can serve.
    const continuedId = request.endpoint === 'responses' ? continuedResponse(request.body) : undefined;
    // Another key's response is as unknown to this one as an id never made (and no replica holding it is asked: continuationRefusal).
    const callerKey = account.caller?.key?.id;
    const continuation = continuedId === undefined ? undefined : seenBy(await continuationOf(continuedId, this.responses, this.bridged), (response) => mayUse(response, callerKey));
    const unreadable = continuation && continuedModelRefusal(continuation, account.caller);
    if (unreadable) return { error: unreadable };
    if (continuation?.kept) request.previousItems = continuation.kept.items;
    // Why a model had nothing to try (unknown, no healthy backend, missing key): the answer when nothing was tried.
    const unroutable: { error?: ApiError } = {};
    let failure: AttemptFailure | undefined;
    let final: Dispatched | undefined;
    let attempted = false;
    let waitedMs = 0;
    /** Targets that answered a 5xx which may be the request's doing (see mayBeTheRequests in backend-trouble.ts). */
    let suspects: Backend[] | undefined;
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s]!;
      const canFallBack = s + 1 < steps.length;
      if (s > 0) {
        // No failure means the previous model had no backend to try at all.
        if (failure && !this.fallbackOn.has(failure.trigger)) break;
        this.metrics.fallback(this.labelOf(steps[s - 1]!.model, request), this.labelOf(step.model, request), failure?.trigger ?? 'unavailable');
        account.fallbacks = (account.fallbacks ?? 0) + 1;
        failure = undefined;
      }
      const tried = new Set<Backend>();
      for (let n = 0; n < this.options.maxAttempts; n++) {
        let choice = await this.choose(step, tried, request, account, unroutable, continuation);
        if (!choice && failure && tried.size > 0 && this.retryOn.has(failure.trigger)) {
          // Every replica failed once: the same ones again, after a pause.
          const wait = failure.retryAfterMs ?? backoffMs(n, this.options.backoffBaseMs, this.options.backoffMaxMs);
          if (waitedMs + wait > this.options.maxWaitS * 1000) break;
          try {
            await sleep(wait, undefined, { signal: signal.asSignal() });
          } catch {
            return { error: abortError(signal) ?? CLIENT_GONE_ERROR };
          }
          waitedMs += wait;
          // A pause the upstreams imposed (backoff, retry-after) is not the router's own time.
          account.upstreamMs += wait;
          tried.clear();
          choice = await this.choose(step, tried, request, account, unroutable, continuation);
        }
        if (!choice) break;
        if (attempted) account.retries++;
        attempted = true;
        account.tried = choice.backend.name;
        const outcome = await this.attempt(choice, request, signal, canFallBack, account, continuation);
        if ('dispatched' in outcome) {
          if (suspects && outcome.dispatched.response.statusCode < 300) for (const suspect of suspects) void this.cooldowns.recordFailure(suspect.name);
          return outcome.dispatched;
        }
        // Every pick gets one outcome, at its policy: the relayed answer's at its end (the Gateway), the others' here.
        if (choice.pick) this.policy.onResult?.(choice.backend, choice.pick, ABANDONED);
        else this.endProbe(choice.backend, outcome, signal);
        if ('refused' in outcome) return { error: outcome.refused };
        failure = outcome.failure;
        final = outcome.final;
        if (outcome.suspect) (suspects ??= []).push(choice.backend);
        tried.add(choice.backend);
        if (!this.retryOn.has(failure.trigger)) break;
      }
    }
    if (final) {
      // The last error answer is relayed as the backend gave it.
      final.backend.inflight++;
      return final;
    }
    if (failure) return { error: badGateway(`no backend for '${request.model}' could be reached: ${failure.message}`) };
    return { error: unroutable.error ?? noHealthyBackend(request.model) };
  }

  /** A model as a metric label: a client names its fallbacks (and its model) freely, so with client fallbacks a name no target knows is 'unknown'. */
  private labelOf(model: string, request: InferenceRequest): string {
    return request.fallbacks === undefined || this.resolver.knows(model) ? model : 'unknown';
  }

  private choose(
    step: RouteStep,
    tried: ReadonlySet<Backend>,
    request: InferenceRequest,
    account: AttemptAccount,
    unroutable: { error?: ApiError },
    continuation: Continuation | undefined,
  ): Promise<Choice | undefined> {
    const holder = continuation?.holder?.replica;
    const held = holder === undefined ? undefined : this.holderChoice(step, tried, request, account, holder);
    if (held) return Promise.resolve(held);
    // A response the router keeps goes on through its chat bridge: the step's targets answered through it come first, as an engine's response goes to its holder.
    if (continuation?.kept !== undefined) {
      const bridged = (backend: Backend) => backend.adapterFor(request.endpoint).storesNoResponses === true;
      return this.weightedChoice(step, tried, request, account, unroutable, bridged).then((choice) => choice ?? this.weightedChoice(step, tried, request, account, unroutable));
    }
    return this.weightedChoice(step, tried, request, account, unroutable);
  }

  /** A target of the step by weight among those with a usable backend (one `accepted`, when given), and the policy's pick of its backends; or a benched backend's probe. */
  private async weightedChoice(
    step: RouteStep,
    tried: ReadonlySet<Backend>,
    request: InferenceRequest,
    account: AttemptAccount,
    unroutable: { error?: ApiError },
    accepted?: (backend: Backend) => boolean,
  ): Promise<Choice | undefined> {
    let chosenTarget: RouteTarget | undefined;
    let chosen: Backend[] | undefined;
    let weightSeen = 0;
    for (const target of step.targets) {
      const route = this.resolver.resolveTarget(target);
      if ('error' in route) {
        unroutable.error ??= route.error;
        continue;
      }
      const usable: Backend[] = [];
      for (const backend of route.backends) {
        if (tried.has(backend) || (accepted !== undefined && !accepted(backend))) continue;
        const view = this.cooldowns.view(backend.name);
        if (view.state === 'ok') usable.push(backend);
        else if (view.state === 'probing' && (await this.cooldowns.claimProbe(backend.name))) {
          this.log.info({ backend: backend.name }, 'cooldown over: sending one probe request');
          account.probe = true;
          return { backend, target, pick: undefined };
        }
      }
      if (usable.length === 0) continue;
      // Weighted choice among the targets that have a usable backend (reservoir style, one pass).
      weightSeen += target.weight;
      if (chosen === undefined || Math.random() * weightSeen < target.weight) {
        chosen = usable;
        chosenTarget = target;
      }
    }
    if (!chosen || !chosenTarget) return undefined;
    return this.policyPick(chosen, chosenTarget, step, tried, request, account);
  }

  /** The routing policy's pick among `candidates`, noted for the request log's routing decision. */
  private policyPick(candidates: Backend[], target: RouteTarget, step: RouteStep, tried: ReadonlySet<Backend>, request: InferenceRequest, account: AttemptAccount): Choice {
    account.candidates = candidates.length;
    account.untriedOnly = tried.size > 0;
    account.probe = false;
    // The policy sees every pick, even of a single candidate: stateful policies (prefix trees) learn from it.
    const pick: RouteRequest = { model: target.model, group: step.model, body: request.body, headers: request.headers };
    return { backend: this.policy.pick(candidates, pick), target, pick };
  }

  /**
   * The replica named `holder` when one of the step's targets has it healthy, untried and not
   * benched: offered to the policy as the only candidate (every pick goes through the policy).
   * Gone or unusable, the request is routed as any other and its engine answers for the unknown id.
   */
  private holderChoice(step: RouteStep, tried: ReadonlySet<Backend>, request: InferenceRequest, account: AttemptAccount, holder: string): Choice | undefined {
    for (const target of step.targets) {
      const route = this.resolver.resolveTarget(target);
      if ('error' in route) continue;
      const backend = usableHolder(route.backends, holder, this.cooldowns);
      if (!backend || tried.has(backend)) continue;
      return this.policyPick([backend], target, step, tried, request, account);
    }
    return undefined;
  }

  /** `canFallBack`: a later model could take the request, so a refused answer is worth reading first. */
  private async attempt(
    { backend, target, pick }: Choice,
    request: InferenceRequest,
    signal: RequestAbort,
    canFallBack: boolean,
    timing: UpstreamTiming,
    continuation: Continuation | undefined,
  ): Promise<Outcome> {
    const probe = pick === undefined;
    const adapter = backend.adapterFor(request.endpoint);
    const refusal = continuation && continuationRefusal(adapter, continuation, request.model);
    if (refusal) return { refused: refusal };
    let call: UpstreamCall;
    try {
      call = adapter.request(request, backend, backend.upstreamModelFor(target.model));
    } catch (error) {
      // A request the provider cannot express (say, embeddings for a chat-only API) is the client's error, not the backend's.
      if (error instanceof ApiError) return { refused: error };
      throw error;
    }
    backend.inflight++;
    startUpstream(timing);
    let response: UpstreamResponse;
    try {
      const timeout = this.options.attemptTimeoutS;
      response = await callUpstream(this.dispatcher, { origin: backend.origin, method: 'POST', ...call, ...(timeout ? { headersTimeout: timeout * 1000 } : {}) }, signal);
    } catch (error) {
      backend.inflight--;
      endUpstream(timing);
      const aborted = abortError(signal);
      if (aborted) {
        if (stoppedByDeadline(signal)) this.fleet.recordFailure(backend, aborted.message);
        return { refused: aborted };
      }
      const failure = classifyError(error as Error & { code?: string });
      failure.message = `${backend.name}: ${failure.message}`;
      this.log.warn({ requestId: request.id, backend: backend.name, err: failure.message }, 'backend request failed');
      this.record(backend, failure, undefined, probe);
      return { failure };
    }
    const judgeAnswer = canFallBack && !request.stream && response.statusCode === 200 && this.fallbackOn.has('content_policy');
    if (response.statusCode < 400 && !judgeAnswer) return { dispatched: { backend, model: target.model, response, probe } };
    let body: Buffer | undefined;
    try {
      body = await response.body.readAll(this.options.maxResponseBytes);
    } catch {
      if (response.statusCode < 400) return { dispatched: { backend, model: target.model, response, body: undefined, probe } };
    }
    const failure = response.statusCode < 400 ? classifyAnswer(body!) : classifyStatus(response.statusCode, response.headers, body ?? Buffer.alloc(0));
    if (!failure) return { dispatched: { backend, model: target.model, response, body, probe } };
    backend.inflight--;
    endUpstream(timing);
    let suspect = false;
    if (BACKEND_TROUBLE.has(failure.trigger)) suspect = this.record(backend, failure, response.statusCode, probe);
    // A prompt over the context window, a content-policy refusal: an answer about the request from a working backend, not an error of the backend's.
    else backend.recordSuccess((performance.now() - timing.lastSentAt!) / 1000, undefined);
    // An error answer cut off or past max_response_bytes cannot be relayed as the backend gave it: the router answers for it.
    if (body === undefined) return { failure, suspect };
    return { failure, final: { backend, model: target.model, response, body, failureRecorded: true }, suspect };
  }

  /**
   * The verdict on a probe that will not be relayed (the Gateway judges those it relays): without
   * one the target would stay 'probing', out of service, until its claim lapsed.
   */
  private endProbe(backend: Backend, outcome: Exclude<Outcome, { dispatched: Dispatched }>, signal: RequestAbort): void {
    if ('failure' in outcome) {
      // Backend trouble has counted against it again (see record); any other failure is an answer from a working backend.
      if (!BACKEND_TROUBLE.has(outcome.failure.trigger)) void this.cooldowns.recordProbeSuccess(backend.name);
      return;
    }
    // The request's deadline passed while the probe had no answer yet: as failed as a timeout.
    if (stoppedByDeadline(signal)) void this.cooldowns.recordFailure(backend.name);
    else void this.cooldowns.releaseProbe(backend.name);
  }

  /**
   * Backend trouble: a connection failure, a timeout, a 429 or a 5xx. True when its cooldown count
   * waits for the request to be answered with a success (run() counts it then); a probe's verdict cannot wait.
   */
  private record(backend: Backend, failure: AttemptFailure, status: number | undefined, probe: boolean): boolean {
    return countBackendTrouble(this.fleet, this.cooldowns, backend, failure.message, status, !probe);
  }
}
