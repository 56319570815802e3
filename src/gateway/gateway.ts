import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { RoutingPolicy } from '../routing/policy.js';
import { UNKNOWN_MODEL, type Metrics } from '../observability/metrics.js';
import { ResponseAffinity } from '../routing/response-affinity.js';
import { badGateway, type ApiError } from '../server/errors.js';
import type { RequestLogEntry } from '../store/request-log.js';
import { decodedBody } from '../upstream/content-encoding.js';
import { usageOfMessages } from '../providers/messages/response.js';
import { MessagesStream } from '../providers/messages/stream-ending.js';
import { isSecret, withoutKey } from '../providers/key-echo.js';
import { streamWithoutKey } from '../providers/stream-without-key.js';
import { AnswerAbort, CLIENT_CLOSED, CLIENT_GONE_ERROR, type RequestAbort, stoppedByRouter } from './abort.js';
import { AttemptRunner, type AttemptAccount, type AttemptOptions, type Dispatched, type Exhausted } from './attempts.js';
import { countBackendTrouble, cutWhileSending, EJECTING_STATUS } from './backend-trouble.js';
import { BridgedResponses } from './bridged-responses.js';
import type { InferenceRequest, RequestIdentity, Usage } from './inference-request.js';
import type { Admitted, GatewayPolicies, RequestEnd } from './policies.js';
import { brokenAnswer, errorBodyWithoutKey, isEventStreamType, OVERHEAD_HEADER, overheadMs, responseHeaders, targetHeader, writeApiError, writeJson } from './relay.js';
import { parseJson } from './parse-json.js';
import { usageOfResponses } from './responses-api.js';
import { countedUsage } from './usage-counts.js';
import { ResponseCalls, type ResponseCallRequest } from './response-calls.js';
import { ResponsesStream } from './responses-stream.js';
import { CHUNK_STREAM } from './stream-ending.js';
import { relayStream } from './stream-relay.js';
import { endUpstream } from './upstream-time.js';

export interface GatewayOptions extends AttemptOptions {
  requestTimeoutS: number;
  /** A stream silent this long when its deadline cuts it has stalled (the target's failure); one still sending is only long. */
  stalledAfterS: number;
  /** Failed requests' log lines carry their messages / prompt (logging.log_prompts). */
  logPrompts?: boolean;
}

export interface Accounting extends AttemptAccount {
  backend?: Backend;
  /** The fleet model that answered (see Dispatched.model). */
  servedModel?: string;
  /** Completion tokens guessed from what reached the client (see RequestEnd.relayedTokens). */
  relayedTokens?: number;
  /** Set once the failure has been counted against the backend, so it is not also counted a success. */
  failed?: boolean;
  status: number;
  ttftS?: number;
  interTokenS?: number;
  usage?: Usage;
  /** Who answered when no backend did: the cache (absent for a refusal). */
  servedBy?: 'cache';
  /** Set when the whole answer reached the client. */
  complete?: boolean;
  streamBroken?: boolean;
  /** Set when the target was the replica holding the stored response the request is about, not a routing policy's pick. */
  byHolder?: boolean;
  /** Why the request failed, for its log line. */
  error?: string;
  contentType?: string;
}

/** Where accounted requests go besides metrics: the request log. */
export interface RequestSink {
  append(entry: RequestLogEntry): void;
}

/**
 * The per-request pipeline: identify caller → rate limit → cache lookup (the policies) →
 * resolve model → pick a backend → dispatch (retries and fallbacks while nothing has been
 * sent) → relay → account (metrics, routing feedback, request log).
 */
export class Gateway {
  private readonly attempts: AttemptRunner;
  /** Which replica produced each recent Responses API answer, for requests that continue, retrieve, delete or cancel one. */
  readonly responses: ResponseAffinity;
  /** The Responses API answers of the router's chat bridge, which it keeps itself. */
  readonly bridged: BridgedResponses;
  private readonly responseCalls: ResponseCalls;
  /** Requests being answered, so that a shutdown can end them with a reason rather than cut them. */
  private readonly inFlight = new Set<RequestAbort>();

  constructor(
    private readonly fleet: Fleet,
    private readonly policy: RoutingPolicy,
    dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly policies: GatewayPolicies,
    private readonly requestLog?: RequestSink,
  ) {
    this.responses = new ResponseAffinity(policies.state.responseHolders);
    this.bridged = new BridgedResponses(policies.state.keptResponses);
    this.attempts = new AttemptRunner(fleet, policies.resolver, policy, dispatcher, policies.state.cooldowns, policies.metrics, log, options, this.responses, this.bridged);
    this.responseCalls = new ResponseCalls(fleet, dispatcher, this.responses, this.bridged, policies, options);
  }

  async handle(request: InferenceRequest, res: ServerResponse): Promise<void> {
    const abort = new AnswerAbort(res, this.options.requestTimeoutS);
    this.inFlight.add(abort);
    const account: Accounting = { status: 0, retries: 0, upstreamMs: 0 };
    let dispatched: Dispatched | Exhausted | undefined;
    let admitted: Admitted | undefined;
    try {
      const own: OutgoingHttpHeaders = { 'x-request-id': request.id };
      // ── policies: identify caller → rate limit → cache lookup ──
      const admission = await this.policies.admit(request, res, own);
      if ('answered' in admission) {
        account.status = admission.status;
        account.servedBy = admission.servedBy;
        account.caller = admission.caller;
        return;
      }
      admitted = admission;
      account.caller = admission.caller;
      // ──
      dispatched = await this.attempts.run(request, abort, account);
      if ('error' in dispatched) {
        account.status = dispatched.error.status;
        account.error = dispatched.error.message;
        if (dispatched.error !== CLIENT_GONE_ERROR) writeApiError(res, dispatched.error, own, request.endpoint);
        return;
      }
      const { backend, response } = dispatched;
      account.backend = backend;
      account.servedModel = dispatched.model;
      account.status = response.statusCode;
      account.failed = dispatched.failureRecorded;
      const headers = responseHeaders(response.headers, own);
      headers['x-switchyard-target'] = targetHeader(backend.name);
      account.contentType = String(response.headers['content-type']);
      if (response.statusCode === 200 && isEventStream(response.headers['content-type'], request.stream)) {
        // Typed for the client, and for a cached replay, when the backend left it out.
        if (response.headers['content-type'] === undefined) headers['content-type'] = account.contentType = 'text/event-stream';
        // A stream's whole overhead is known only at its end (metrics, request log); its header carries the part before dispatch.
        headers[OVERHEAD_HEADER] = overheadMs(account.upstreamSentAt! - request.startedAt - account.upstreamMs);
        res.writeHead(200, headers);
        const collecting = admitted;
        const tap = collecting.cache.key ? (bytes: Buffer) => this.policies.collect(collecting, bytes) : undefined;
        const adapter = backend.adapterFor(request.endpoint);
        // A Responses stream's id is remembered as soon as it is read: a client may continue the response before the stream has ended.
        const ending =
          request.endpoint === 'responses'
            ? new ResponsesStream(adapter.storesNoResponses ? undefined : (id) => this.responses.remember(request.body, id, backend.name, request.model, account.caller?.key?.id))
            : request.endpoint === 'messages'
              ? new MessagesStream()
              : CHUNK_STREAM;
        // A stream its provider does not translate is relayed as it came, less any echo of the key the router sent (see StreamWithoutKey).
        const maxEventBytes = this.options.maxResponseBytes;
        // The bridge's Response is kept as its terminal event is made: before the client can continue it.
        const onResponse = adapter.storesNoResponses ? (response: Record<string, unknown>) => this.bridged.keep(request, response, account.caller?.key?.id) : undefined;
        const upstreamModel = backend.upstreamModelFor(dispatched.model);
        const transform = adapter.stream?.(request, { apiKey: backend.apiKey, maxEventBytes, upstreamModel, onResponse }) ?? streamWithoutKey(backend.apiKey, maxEventBytes);
        const outcome = await relayStream(res, response.body, request.startedAt, abort, ending, transform, tap);
        endUpstream(account);
        account.ttftS = outcome.ttftS;
        account.interTokenS = outcome.interTokenS;
        account.usage = countedUsage(outcome.usage);
        // Counted even when the client left: the backend generated what was relayed.
        account.relayedTokens = outcome.events;
        account.complete = !outcome.error;
        if (outcome.clientGone) account.status = CLIENT_CLOSED;
        else if (outcome.error) {
          account.streamBroken = true;
          // A generation longer than request_timeout_s, still sending when cut, says nothing against its target.
          if (cutWhileSending(abort, outcome.lastEventAt, this.options.stalledAfterS)) account.error = outcome.error;
          else this.failUnlessRouterStopped(abort, account, backend, outcome.error);
        }
        return;
      }
      await this.relayBuffered(res, request, dispatched, headers, abort, account, admitted);
    } finally {
      this.inFlight.delete(abort);
      abort.release();
      if (dispatched && 'response' in dispatched) {
        dispatched.backend.inflight--;
        if (dispatched.probe) this.endProbe(dispatched.backend, account, abort);
        // An error answer relayed as the last word had its outcome reported with its attempt.
        if (!dispatched.failureRecorded) this.feedBack(request, account, dispatched.backend);
      }
      if (admitted) {
        void this.policies.settle(request, admitted, requestEnd(account));
      }
      this.account(request, account, admitted);
    }
  }

  /** A Responses API call on a stored response (retrieve, delete, cancel, input items), answered by the replica holding it. */
  async handleResponseCall(request: ResponseCallRequest, res: ServerResponse): Promise<void> {
    const abort = new AnswerAbort(res, this.options.requestTimeoutS);
    this.inFlight.add(abort);
    const account: Accounting = { status: 0, retries: 0, upstreamMs: 0 };
    try {
      await this.responseCalls.answer(request, res, abort, account);
    } finally {
      this.inFlight.delete(abort);
      abort.release();
      this.account(request, account, undefined);
    }
  }

  /** Ends every request still being answered with `reason`: an error answer, or an error event on an open stream. */
  stopAll(reason: ApiError): void {
    for (const abort of this.inFlight) abort.abort(reason);
  }

  /**
   * Counts a request the router refused before it reached this pipeline (unreadable or invalid
   * body, draining), so that metrics and the request log see every answer the router gave.
   */
  refused(request: RequestIdentity, status: number): void {
    this.account(request, { status, retries: 0, upstreamMs: 0 }, undefined);
  }

  /** Non-streamed answers are small: read whole, checked (and translated where the provider needs it), written in one go. */
  private async relayBuffered(
    res: ServerResponse,
    request: InferenceRequest,
    { backend, response, body: read }: Dispatched,
    headers: OutgoingHttpHeaders,
    signal: RequestAbort,
    account: Accounting,
    admitted: Admitted,
  ): Promise<void> {
    let body: Buffer | string;
    try {
      body = read ?? (await response.body.readAll(this.options.maxResponseBytes));
      endUpstream(account);
    } catch (error) {
      const failure = brokenAnswer(error, backend.name, signal);
      account.status = failure === CLIENT_GONE_ERROR ? CLIENT_CLOSED : failure.status;
      if (failure === CLIENT_GONE_ERROR) {
        // The client left once the answer had started: the prompt was processed, so it is charged.
        account.relayedTokens = 0;
      } else {
        this.failUnlessRouterStopped(signal, account, backend, failure.message);
        writeApiError(res, failure, { 'x-request-id': headers['x-request-id'] }, request.endpoint);
      }
      return;
    }
    let status = response.statusCode;
    const adapter = backend.adapterFor(request.endpoint);
    // The translation reads the provider's answer and writes a new one, never compressed: it reads the bytes as sent before any
    // compression the provider applied unasked (those that do not decode stay as they are, and translate as an invalid answer).
    if (adapter.response && typeof body !== 'string' && headers['content-encoding'] !== undefined) {
      body = decodedBody(body, headers['content-encoding'], this.options.maxResponseBytes) ?? body;
      delete headers['content-encoding'];
    }
    // A provider may echo the key the router sent it when refusing it (OpenAI shows it masked): never to the client.
    // Taken out before translating, which may cut the text short, half a key with it.
    if (status >= 300) body = errorBodyWithoutKey(body, headers, backend.apiKey, this.options.maxResponseBytes);
    if (adapter.response) {
      ({ status, body } = adapter.response(status, body, request));
      headers['content-type'] = 'application/json';
    }
    account.status = status;
    // Decoded once: the usage is read from it and the cache keeps it (with its size in bytes, known here); the bytes go to the client.
    let text: string | undefined;
    let textBytes: number | undefined;
    // Every answer of these endpoints is JSON: anything else (a proxy's HTML page, a cut-off body) is the backend failing.
    if (status < 300) {
      if (typeof body === 'string') text = body;
      else {
        const decoded = decodedBody(body, headers['content-encoding'], this.options.maxResponseBytes);
        text = decoded?.toString();
        textBytes = decoded?.length;
      }
      const parsed = parseJson(text);
      if (parsed === undefined) {
        const failure = badGateway(`backend ${backend.name} returned an invalid JSON response`);
        account.status = failure.status;
        this.fail(account, backend, failure.message);
        writeApiError(res, failure, { 'x-request-id': headers['x-request-id'] }, request.endpoint);
        return;
      }
      // A success that reports an error all the same (a Response that failed) loses any echo of the key as an error answer does.
      if (isSecret(backend.apiKey) && reportsError(parsed)) {
        const scrubbed = withoutKey(text!, backend.apiKey);
        if (scrubbed !== text) {
          body = text = scrubbed;
          textBytes = undefined;
          delete headers['content-encoding'];
        }
      }
      if (request.endpoint === 'responses') {
        const response = parsed as { id?: unknown; usage?: unknown };
        account.usage = countedUsage(usageOfResponses(response.usage));
        if (status === 200 && adapter.storesNoResponses) this.bridged.keep(request, parsed as Record<string, unknown>, account.caller?.key?.id);
        else if (status === 200) this.responses.remember(request.body, response.id, backend.name, request.model, account.caller?.key?.id);
      } else if (request.endpoint === 'messages') account.usage = countedUsage(usageOfMessages((parsed as { usage?: unknown }).usage));
      else account.usage = countedUsage((parsed as { usage?: unknown }).usage);
    }
    // An error the provider's answer translated to (an error answer itself was counted with its attempt).
    if (EJECTING_STATUS.has(status) && !account.failed) this.fail(account, backend, `answered ${status}`, status);
    if (status === 200) {
      this.policies.collect(admitted, text ?? body, textBytes);
      account.complete = true;
      account.contentType = String(headers['content-type']);
      // Only an estimate's input when the answer reports no usage: its text, as decoded; embeddings generate none.
      account.relayedTokens = request.endpoint === 'embeddings' ? 0 : Math.ceil((text ?? body).length / 4);
      // A cacheable answer is in the shared cache before the client has it, so that the client's
      // next identical request finds it on any instance.
      if (this.policies.willStore(admitted)) await this.policies.settle(request, admitted, requestEnd(account));
    }
    headers[OVERHEAD_HEADER] = overheadMs(performance.now() - request.startedAt - account.upstreamMs);
    writeJson(res, status, body, headers);
  }

  /** Every relayed probe gets a verdict, or its target would stay 'probing', out of service. */
  private endProbe(backend: Backend, account: Accounting, abort: RequestAbort): void {
    // A failure counted during the relay has benched the target again already (see fail).
    if (account.failed) return;
    const cooldowns = this.policies.state.cooldowns;
    // Stopped by the router (shutting down) before the answer ended: no verdict, the next request probes.
    if (stoppedByRouter(abort)) return void cooldowns.releaseProbe(backend.name);
    void (account.status < 500 ? cooldowns.recordProbeSuccess(backend.name) : cooldowns.recordFailure(backend.name));
  }

  /**
   * A broken answer counts against the backend, except when the router itself stopped it while
   * shutting down: a rolling restart must not bench healthy backends (in Redis, for every instance).
   */
  private failUnlessRouterStopped(abort: RequestAbort, account: Accounting, backend: Backend, message: string): void {
    if (stoppedByRouter(abort)) account.error = message;
    else this.fail(account, backend, message);
  }

  /** `status`: the answer's, when the backend's answer was an error; undefined when it broke off or was unreadable. */
  private fail(account: Accounting, backend: Backend, message: string, status?: number): void {
    account.failed = true;
    account.error = message;
    // Nothing can answer for the request any more: a status that may be its doing is not left for later.
    countBackendTrouble(this.fleet, this.policies.state.cooldowns, backend, message, status, false);
  }

  /** One warning per failed request: the request log has the numbers, the log says what went wrong. */
  private logFailure(request: RequestIdentity, account: Accounting, target: string | undefined): void {
    const body = this.options.logPrompts ? (request as Partial<InferenceRequest>).body : undefined;
    const prompt = body && { messages: body.messages, prompt: body.prompt, input: body.input };
    this.log.warn({ requestId: request.id, model: request.model, target, status: account.status, err: account.error, ...prompt }, account.streamBroken ? 'stream failed' : 'request failed');
  }

  /** What the answer tells the backend's health record and the routing policy. */
  private feedBack(request: InferenceRequest, account: Accounting, backend: Backend): void {
    const ok = !account.failed && account.status < 500 && account.status !== CLIENT_CLOSED;
    // The target's own times start at the attempt it answered: earlier attempts elsewhere and pauses before retrying are not its latency.
    const beforeS = ((account.lastSentAt ?? request.startedAt) - request.startedAt) / 1000;
    const ttftS = account.ttftS === undefined ? undefined : account.ttftS - beforeS;
    if (ok) backend.recordSuccess((performance.now() - request.startedAt) / 1000 - beforeS, ttftS);
    // The served model's name, not the requested one: the policy table finds the policy that picked by it when it has no record of the pick (a probe).
    this.policy.onResult?.(backend, { model: account.servedModel ?? request.model, body: request.body, headers: request.headers }, { ok, ttftS, usage: account.usage });
  }

  private account(request: RequestIdentity, account: Accounting, admitted: Admitted | undefined): void {
    endUpstream(account);
    const latencyMs = performance.now() - request.startedAt;
    const latencyS = latencyMs / 1000;
    const overheadMs = Math.max(0, latencyMs - account.upstreamMs);
    const { backend, status } = account;
    // Metric labels stay bounded: a name no target knows is "unknown" unless a target (a provider's prefix rule) answered it
    // as that name (a made-up name answered by a fallback the client named is still made up).
    const answeredAsAsked = backend !== undefined && status < 400 && account.servedModel === request.model;
    const model = this.policies.resolver.knows(request.model) || answeredAsAsked ? request.model : UNKNOWN_MODEL;
    const target = backend?.name ?? account.servedBy ?? account.tried;
    this.metrics.record({
      endpoint: request.endpoint,
      model,
      target: target ?? 'none',
      status,
      latencyS,
      ttftS: account.ttftS,
      interTokenS: account.interTokenS,
      overheadS: overheadMs / 1000,
      usage: account.usage,
      retries: account.retries,
      streamBroken: account.streamBroken === true,
    });
    // Not the router's own refusals with nothing to tell (draining): they are counted, not logged one by one.
    if ((status >= 500 || account.streamBroken) && (account.backend || account.tried || account.error)) this.logFailure(request, account, target);
    if (!this.requestLog) return;
    const cost = admitted?.costUsd ?? 0;
    this.requestLog.append({
      ts: Date.now(),
      requestId: request.id,
      callerKey: account.caller?.key?.name ?? null,
      route: request.endpoint,
      // The log keeps the name as asked for (it has no label set to bound).
      model: request.model === '' ? 'unknown' : request.model,
      target: target ?? null,
      status,
      latencyMs,
      ttftMs: account.ttftS === undefined ? null : account.ttftS * 1000,
      interTokenMs: account.interTokenS === undefined ? null : account.interTokenS * 1000,
      overheadMs,
      promptTokens: account.usage?.prompt_tokens ?? null,
      completionTokens: account.usage?.completion_tokens ?? null,
      cachedTokens: account.usage?.prompt_tokens_details?.cached_tokens ?? null,
      cost: cost > 0 ? cost : null,
      cacheStatus: account.servedBy === 'cache' ? 'hit' : (admitted?.cache.status ?? null),
      retries: account.retries,
      fallbacks: account.fallbacks ?? 0,
      decision: routingDecision(this.policy.name, account),
    });
  }
}

/** A JSON answer with an `error` (a Response's is null unless it failed). */
const reportsError = (answer: unknown): boolean => typeof answer === 'object' && answer !== null && (answer as { error?: unknown }).error != null;

/** A streamed request answered 200 without a content type is taken to be the stream it asked for. */
const isEventStream = (contentType: string | undefined, streamRequested: boolean): boolean => (contentType === undefined ? streamRequested : isEventStreamType(contentType));

/** How the last attempt's backend was chosen, in words; null when no backend was tried. */
function routingDecision(policy: string, account: Accounting): string | null {
  if (account.byHolder) return `response holder: ${account.tried}`;
  const attempt = `attempt ${account.retries + 1}`;
  if (account.probe) return `cooldown probe: ${account.tried}, ${attempt}`;
  if (account.candidates === undefined) return null;
  return `${policy}: ${account.tried} of ${account.candidates} ${account.untriedOnly ? 'untried healthy' : 'healthy'}, ${attempt}`;
}

function requestEnd(account: Accounting): RequestEnd {
  return {
    status: account.status,
    usage: account.usage,
    relayedTokens: account.relayedTokens,
    model: account.servedModel,
    complete: account.complete === true,
    contentType: account.contentType,
    target: account.backend?.name,
  };
}
