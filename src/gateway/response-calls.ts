import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import { storedResponseCall } from '../providers/openai-compatible.js';
import { streamWithoutKey } from '../providers/stream-without-key.js';
import { mayUse, type ResponseAffinity } from '../routing/response-affinity.js';
import { ApiError, badGateway, echoed, responseNotFound } from '../server/errors.js';
import type { RetrieveQuery } from '../server/retrieve-query.js';
import { callUpstream, type UpstreamResponse } from '../upstream/call.js';
import { abortError, CLIENT_CLOSED, CLIENT_GONE_ERROR, stoppedByDeadline, stoppedByRouter, type RequestAbort } from './abort.js';
import { countBackendTrouble, cutWhileSending, isTroubleStatus } from './backend-trouble.js';
import type { BridgedResponse, BridgedResponses } from './bridged-responses.js';
import type { Caller } from './caller.js';
import type { Accounting } from './gateway.js';
import type { RequestIdentity, ResponseCall } from './inference-request.js';
import { keptResponseAnswer, type KeptResponseAnswer } from './kept-response-calls.js';
import type { GatewayPolicies } from './policies.js';
import { brokenAnswer, errorBodyWithoutKey, isEventStreamType, OVERHEAD_HEADER, overheadMs, responseHeaders, targetHeader, writeApiError, writeJson } from './relay.js';
import { ResponsesStream } from './responses-stream.js';
import { relayStream } from './stream-relay.js';
import { endUpstream, startUpstream } from './upstream-time.js';

/** A Responses API call on a stored response: `GET`/`DELETE /v1/responses/{id}`, `POST …/cancel`, `GET …/input_items`. */
export interface ResponseCallRequest extends RequestIdentity {
  call: ResponseCall;
  /** The response's id, percent-decoded. */
  responseId: string;
  /** The query string as sent, with its `?` (`?stream=true`, `?after=…&limit=…`), or empty. */
  query: string;
  /** A retrieve's query, checked (see retrieveQuery); undefined for the other calls. */
  retrieve?: RetrieveQuery;
  /** A `HEAD`: the `GET` call's status and headers are answered, without its body. */
  headersOnly: boolean;
  headers: IncomingHttpHeaders;
}

export interface ResponseCallOptions {
  maxResponseBytes: number;
  attemptTimeoutS: number | undefined;
  /** See GatewayOptions.stalledAfterS. */
  stalledAfterS: number;
}

const holderUnavailable = (responseId: string, replica: string) =>
  new ApiError(503, `Response with id '${echoed(responseId)}' is held by '${replica}', which is unhealthy or benched now; try again later.`, 'service_unavailable', 'response_holder_unavailable');

/**
 * The Responses API's calls on a stored response, which name no model: each goes to the replica
 * that produced the response (engines keep their stored responses per replica), as the router
 * remembers it (ResponseAffinity), and its answer comes back as the engine gave it. One attempt:
 * no other replica holds the response, so there is nothing to retry on or fall back to.
 */
export class ResponseCalls {
  constructor(
    private readonly fleet: Fleet,
    private readonly dispatcher: Dispatcher,
    private readonly affinity: ResponseAffinity,
    private readonly bridged: BridgedResponses,
    private readonly policies: GatewayPolicies,
    private readonly options: ResponseCallOptions,
  ) {}

  /** Answers the call, noting in `account` what the Gateway accounts for it. */
  async answer(request: ResponseCallRequest, res: ServerResponse, abort: RequestAbort, account: Accounting): Promise<void> {
    const own = { 'x-request-id': request.id };
    const admission = await this.policies.admitCaller(request.headers, res, own);
    if ('answered' in admission) {
      account.status = admission.status;
      account.caller = admission.caller;
      return;
    }
    account.caller = admission;
    // A response a replica is known here to hold is none the router keeps: not looked for.
    const kept = this.affinity.knownHolder(request.responseId) ? undefined : await this.bridged.find(request.responseId);
    if (kept !== undefined) return this.answerKept(request, kept, admission, res, account);
    let backend: Backend;
    try {
      backend = await this.reachableHolder(request, admission);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return refuse(res, own, account, error);
    }
    account.backend = backend;
    account.tried = backend.name;
    account.byHolder = true;
    if (request.model !== '') account.servedModel = request.model;
    const response = await this.send(request, backend, abort, account);
    if (response instanceof ApiError) return refuse(res, own, account, response);
    account.status = response.statusCode;
    const troubleAnswer = isTroubleStatus(response.statusCode);
    if (troubleAnswer) this.countTrouble(backend, `${backend.name}: answered ${response.statusCode}`, response.statusCode);
    const headers = responseHeaders(response.headers, { ...own, 'x-switchyard-target': targetHeader(backend.name) });
    const contentType = response.headers['content-type'];
    // A streamed retrieve (`?stream=true`) replays the response's events.
    if (response.statusCode === 200 && contentType !== undefined && isEventStreamType(contentType)) {
      headers[OVERHEAD_HEADER] = overheadMs(account.upstreamSentAt! - request.startedAt - account.upstreamMs);
      res.writeHead(200, headers);
      if (request.headersOnly) return answerHeadersOnly(res, response, backend, account);
      const outcome = await relayStream(res, response.body, request.startedAt, abort, new ResponsesStream(), streamWithoutKey(backend.apiKey, this.options.maxResponseBytes));
      endUpstream(account);
      // Its tokens were counted when the response was made: the replay's usage is not counted again.
      account.ttftS = outcome.ttftS;
      account.interTokenS = outcome.interTokenS;
      account.complete = !outcome.error;
      if (outcome.clientGone) account.status = CLIENT_CLOSED;
      else if (outcome.error) {
        account.streamBroken = true;
        account.error = outcome.error;
        if (!stoppedByRouter(abort) && !cutWhileSending(abort, outcome.lastEventAt, this.options.stalledAfterS)) this.countTrouble(backend, outcome.error, undefined);
      } else backend.recordAnswered();
      return;
    }
    let body: Buffer;
    try {
      body = await response.body.readAll(this.options.maxResponseBytes);
      endUpstream(account);
    } catch (error) {
      endUpstream(account);
      const failure = brokenAnswer(error, backend.name, abort);
      if (failure !== CLIENT_GONE_ERROR && !stoppedByRouter(abort) && !troubleAnswer) this.countTrouble(backend, failure.message, undefined);
      return refuse(res, own, account, failure);
    }
    // Not only an error answer may echo the key: a stored Response that failed has its error in a 200. Calls on stored responses are few.
    body = errorBodyWithoutKey(body, headers, backend.apiKey, this.options.maxResponseBytes);
    if (request.call === 'delete' && response.statusCode === 200) this.affinity.forget(request.responseId);
    account.complete = response.statusCode === 200;
    if (!troubleAnswer) backend.recordAnswered();
    headers[OVERHEAD_HEADER] = overheadMs(performance.now() - request.startedAt - account.upstreamMs);
    writeJson(res, response.statusCode, body, headers);
  }

  /** A call on a response the router keeps itself (answered through its chat bridge): answered here, no target asked. */
  private async answerKept(request: ResponseCallRequest, kept: BridgedResponse, caller: Caller, res: ServerResponse, account: Accounting): Promise<void> {
    const own = { 'x-request-id': request.id };
    let answer: KeptResponseAnswer;
    try {
      // Another key's response is not found, as an engine-held one is (see reachableHolder).
      if (!mayUse(kept, caller.key?.id)) throw responseNotFound(request.responseId);
      request.model = account.servedModel = kept.model;
      this.policies.identifier.authorizeModel(caller, kept.model);
      answer = await keptResponseAnswer(request, kept, this.bridged);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return refuse(res, own, account, error);
    }
    account.status = 200;
    account.complete = true;
    // A replay is made whole at once: its length is known, as a JSON answer's is.
    writeJson(res, 200, answer.body, { 'content-type': answer.contentType, ...own, [OVERHEAD_HEADER]: overheadMs(performance.now() - request.startedAt) });
  }

  /**
   * The replica to ask, once the caller may: its key's models are checked against the model the
   * response was made with (`request.model` from then on, for metrics and the request log).
   */
  private async reachableHolder(request: ResponseCallRequest, caller: Caller): Promise<Backend> {
    const holder = await this.affinity.holderOf(request.responseId);
    // Another key's response is not found, the same answer as an unknown id: its existence is not the caller's to learn.
    if (holder === undefined || !mayUse(holder, caller.key?.id)) throw responseNotFound(request.responseId);
    if (holder.model !== undefined) {
      request.model = holder.model;
      this.policies.identifier.authorizeModel(caller, holder.model);
    }
    const backend = this.fleet.get(holder.replica);
    // An engine's stored responses live in its memory: a replica that left the fleet took them along.
    if (backend === undefined) throw responseNotFound(request.responseId, `'${holder.replica}', which held it, has left the fleet`);
    if (!backend.healthy || this.policies.state.cooldowns.view(backend.name).state !== 'ok') throw holderUnavailable(request.responseId, holder.replica);
    return backend;
  }

  /** The holder's answer (status and headers; the body follows), or the error to answer instead. */
  private async send(request: ResponseCallRequest, backend: Backend, abort: RequestAbort, account: Accounting): Promise<UpstreamResponse | ApiError> {
    const timeout = this.options.attemptTimeoutS;
    startUpstream(account);
    try {
      return await callUpstream(this.dispatcher, { origin: backend.origin, ...storedResponseCall(request, backend), ...(timeout ? { headersTimeout: timeout * 1000 } : {}) }, abort);
    } catch (error) {
      endUpstream(account);
      const aborted = abortError(abort);
      if (aborted !== undefined) {
        // A deadline passed with no answer counts against the holder (it was too slow); a client that left or a shutdown does not.
        if (stoppedByDeadline(abort)) this.fleet.recordFailure(backend, aborted.message);
        return aborted;
      }
      const failure = badGateway(`backend ${backend.name} could not be reached: ${(error as Error).message}`);
      this.countTrouble(backend, failure.message, undefined);
      return failure;
    }
  }

  /**
   * A holder's failure counts against it as an inference request's does (see countBackendTrouble):
   * towards its ejection and its cooldown. A 500 that may be the call's own doing (this response's)
   * counts towards no cooldown, as no success elsewhere can follow it.
   */
  private countTrouble(backend: Backend, message: string, status: number | undefined): void {
    countBackendTrouble(this.fleet, this.policies.state.cooldowns, backend, message, status, true);
  }
}

/** The body a HEAD does not want: a replayed stream is not read (it may be long, and arrives as the engine replays it). */
const BODY_NOT_WANTED = new Error('a HEAD wants no body');

/** Ends a HEAD on a stream once its headers are sent, cancelling the upstream answer rather than reading it through. */
function answerHeadersOnly(res: ServerResponse, response: UpstreamResponse, backend: Backend, account: Accounting): void {
  response.body.cancel(BODY_NOT_WANTED);
  endUpstream(account);
  res.end();
  account.complete = true;
  backend.recordAnswered();
}

/** Ends the call with the router's own error answer (none to a client that has left). */
function refuse(res: ServerResponse, own: OutgoingHttpHeaders, account: Accounting, error: ApiError): void {
  account.status = error === CLIENT_GONE_ERROR ? CLIENT_CLOSED : error.status;
  account.error = error.message;
  if (error !== CLIENT_GONE_ERROR) writeApiError(res, error, own);
}
