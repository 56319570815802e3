import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { RoutingPolicy } from '../routing/policy.js';
import type { Metrics } from '../observability/metrics.js';
import type { UpstreamCall } from '../providers/adapter.js';
import { ApiError, badGateway, gatewayTimeout } from '../server/errors.js';
import type { RequestLogEntry } from '../store/request-log.js';
import type { InferenceRequest, Usage } from './inference-request.js';
import { resolveModel, type RouteSources } from './resolve.js';
import { CLIENT_GONE, readBody, relayStream, responseHeaders, writeApiError, writeJson } from './relay.js';

export interface GatewayOptions {
  requestTimeoutS: number;
  maxAttempts: number;
}

/** Statuses that mean "this replica cannot take it now": safe to send elsewhere before any byte is written. */
const RETRYABLE_STATUS = new Set([502, 503]);
/** Statuses that count towards ejecting a backend. */
const FAILURE_STATUS = new Set([502, 503, 504]);
const CLIENT_CLOSED = 499;

/** A backend's answer, with its in-flight count still raised until the relay ends. */
interface Dispatched {
  backend: Backend;
  response: Dispatcher.ResponseData;
}

/** Nothing to relay: either an error of the router's own, or a buffered 502/503 after the last retry. */
interface Exhausted {
  error: ApiError;
  last?: { backend: Backend; status: number; headers: Dispatcher.ResponseData['headers']; body: Buffer };
}

interface Accounting {
  backend?: Backend;
  /** Set once the failure has been counted against the backend, so it is not also counted a success. */
  failed?: boolean;
  status: number;
  ttftS?: number;
  interTokenS?: number;
  usage?: Usage;
  retries: number;
  /** Time spent waiting on upstreams so far, in ms: what the router's overhead excludes. */
  upstreamMs: number;
  /** performance.now() when the attempt being relayed was sent; cleared once its response ended. */
  upstreamSentAt?: number;
  candidates?: number;
}

/** Where accounted requests go besides metrics: the request log. */
export interface RequestSink {
  append(entry: RequestLogEntry): void;
}

/**
 * The per-request pipeline: resolve model → pick a backend → dispatch (retrying on another
 * replica while nothing has been sent) → relay → account.
 */
export class Gateway {
  constructor(
    private readonly fleet: Fleet,
    private readonly policy: RoutingPolicy,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
    private readonly routes: RouteSources,
    private readonly requestLog?: RequestSink,
  ) {}

  async handle(request: InferenceRequest, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(gatewayTimeout(this.options.requestTimeoutS)), this.options.requestTimeoutS * 1000);
    const onClose = () => {
      if (!res.writableFinished) controller.abort(CLIENT_GONE);
    };
    res.once('close', onClose);
    const account: Accounting = { status: 0, retries: 0, upstreamMs: 0 };
    let dispatched: Dispatched | Exhausted | undefined;
    try {
      dispatched = await this.dispatch(request, controller.signal, account);
      const own: OutgoingHttpHeaders = { 'x-request-id': request.id };
      if ('error' in dispatched) {
        const { error, last } = dispatched;
        account.backend = last?.backend;
        account.status = last ? last.status : error.status;
        if (last) writeJson(res, last.status, last.body, responseHeaders(last.headers, { ...own, 'x-switchyard-target': last.backend.name }));
        else if (error !== CLIENT_GONE_ERROR) writeApiError(res, error, own);
        return;
      }
      const { backend, response } = dispatched;
      account.backend = backend;
      account.status = response.statusCode;
      const headers = responseHeaders(response.headers, { ...own, 'x-switchyard-target': backend.name });
      if (response.statusCode === 200 && String(response.headers['content-type']).startsWith('text/event-stream')) {
        // A stream's whole overhead is known only at its end (metrics, request log); its header carries the part before dispatch.
        headers[OVERHEAD_HEADER] = formatMs(account.upstreamSentAt! - request.startedAt - account.upstreamMs);
        res.writeHead(200, headers);
        const outcome = await relayStream(res, response.body, request.startedAt, controller.signal, backend.adapter.stream?.(request));
        endUpstream(account);
        account.ttftS = outcome.ttftS;
        account.interTokenS = outcome.interTokenS;
        account.usage = outcome.usage;
        if (outcome.clientGone) account.status = CLIENT_CLOSED;
        else if (outcome.error) this.fail(account, backend, outcome.error);
        return;
      }
      await this.relayBuffered(res, request, dispatched, headers, controller.signal, account);
    } finally {
      clearTimeout(deadline);
      res.removeListener('close', onClose);
      if (dispatched && 'response' in dispatched) dispatched.backend.inflight--;
      this.account(request, account);
    }
  }

  /** Non-streamed answers are small: read whole, checked (and translated where the provider needs it), written in one go. */
  private async relayBuffered(res: ServerResponse, request: InferenceRequest, { backend, response }: Dispatched, headers: OutgoingHttpHeaders, signal: AbortSignal, account: Accounting): Promise<void> {
    let body: Buffer | string;
    try {
      body = await readBody(response.body);
      endUpstream(account);
    } catch (error) {
      const failure = this.abortError(signal) ?? badGateway(`backend ${backend.name} broke off its response: ${(error as Error).message}`);
      account.status = failure === CLIENT_GONE_ERROR ? CLIENT_CLOSED : failure.status;
      if (failure !== CLIENT_GONE_ERROR) {
        this.fail(account, backend, failure.message);
        writeApiError(res, failure, { 'x-request-id': headers['x-request-id'] });
      }
      return;
    }
    let status = response.statusCode;
    if (backend.adapter.response) {
      ({ status, body } = backend.adapter.response(status, body, request));
      headers['content-type'] = 'application/json';
    }
    account.status = status;
    if (status < 300 && String(headers['content-type']).startsWith('application/json')) {
      const parsed = parseJson(body);
      if (parsed === undefined) {
        const failure = badGateway(`backend ${backend.name} returned an invalid JSON response`);
        account.status = failure.status;
        this.fail(account, backend, failure.message);
        writeApiError(res, failure, { 'x-request-id': headers['x-request-id'] });
        return;
      }
      account.usage = (parsed as { usage?: Usage }).usage;
    }
    if (FAILURE_STATUS.has(status)) this.fail(account, backend, `answered ${status}`);
    headers[OVERHEAD_HEADER] = formatMs(performance.now() - request.startedAt - account.upstreamMs);
    writeJson(res, status, body, headers);
  }

  /**
   * Sends the request to a backend, trying another replica after a connection error or a
   * 502/503: nothing has reached the client yet, so it is safe.
   */
  private async dispatch(request: InferenceRequest, signal: AbortSignal, account: Accounting): Promise<Dispatched | Exhausted> {
    const route = resolveModel(request.model, this.routes);
    if ('error' in route) return { error: route.error };
    let candidates = route.backends;
    account.candidates = candidates.length;
    // Filled in by the failures below; built lazily because an Error's stack capture is not free on every request.
    const exhausted: Exhausted = { error: NO_ATTEMPT };
    for (let attempt = 0; attempt < this.options.maxAttempts && candidates.length > 0; attempt++) {
      account.retries = attempt;
      const backend = this.policy.pick(candidates, { model: request.model, body: request.body, headers: request.headers });
      let call: UpstreamCall;
      try {
        call = backend.adapter.request(request, backend, backend.upstreamModelFor(request.model));
      } catch (error) {
        // a request the provider cannot express (say, embeddings for a chat-only API) is the client's error, not the backend's
        if (error instanceof ApiError) return { error };
        throw error;
      }
      backend.inflight++;
      account.upstreamSentAt = performance.now();
      let response: Dispatcher.ResponseData;
      try {
        response = await this.dispatcher.request({ origin: backend.origin, method: 'POST', ...call, signal });
      } catch (error) {
        backend.inflight--;
        endUpstream(account);
        const aborted = this.abortError(signal);
        if (aborted) {
          if (aborted !== CLIENT_GONE_ERROR) this.fleet.recordFailure(backend, aborted.message);
          return { error: aborted };
        }
        const message = (error as Error).message || String(error);
        this.log.warn({ requestId: request.id, backend: backend.name, err: message }, 'backend request failed');
        this.fleet.recordFailure(backend, message);
        exhausted.error = badGateway(`backend ${backend.name} is unreachable: ${message}`);
        exhausted.last = undefined;
        candidates = candidates.filter((c) => c !== backend);
        continue;
      }
      if (!RETRYABLE_STATUS.has(response.statusCode)) return { backend, response };
      backend.inflight--;
      const body = await readBody(response.body).catch(() => Buffer.alloc(0));
      endUpstream(account);
      this.fleet.recordFailure(backend, `answered ${response.statusCode}`);
      const translated = backend.adapter.response?.(response.statusCode, body, request);
      exhausted.last = translated
        ? { backend, status: translated.status, headers: { ...response.headers, 'content-type': 'application/json' }, body: Buffer.from(translated.body) }
        : { backend, status: response.statusCode, headers: response.headers, body };
      candidates = candidates.filter((c) => c !== backend);
    }
    return exhausted;
  }

  private fail(account: Accounting, backend: Backend, message: string): void {
    account.failed = true;
    this.fleet.recordFailure(backend, message);
  }

  /** Why the request's signal fired, as the error the client should get (none when it did not fire). */
  private abortError(signal: AbortSignal): ApiError | undefined {
    if (!signal.aborted) return undefined;
    return signal.reason === CLIENT_GONE ? CLIENT_GONE_ERROR : (signal.reason as ApiError);
  }

  private account(request: InferenceRequest, account: Accounting): void {
    endUpstream(account);
    const latencyMs = performance.now() - request.startedAt;
    const latencyS = latencyMs / 1000;
    const overheadMs = Math.max(0, latencyMs - account.upstreamMs);
    const { backend, status } = account;
    const ok = !account.failed && status < 500 && status !== CLIENT_CLOSED;
    if (backend && ok) backend.recordSuccess(latencyS, account.ttftS);
    if (backend) this.policy.onResult?.(backend, { model: request.model, body: request.body, headers: request.headers }, { ok, ttftS: account.ttftS, usage: account.usage });
    const model = this.fleet.knows(request.model) ? request.model : 'unknown';
    this.metrics.record({
      endpoint: request.endpoint,
      model,
      target: backend?.name ?? 'none',
      status: account.status,
      latencyS,
      ttftS: account.ttftS,
      interTokenS: account.interTokenS,
      overheadS: overheadMs / 1000,
      usage: account.usage,
      retries: account.retries,
    });
    this.requestLog?.append({
      ts: Date.now(),
      requestId: request.id,
      callerKey: null,
      route: request.endpoint,
      model,
      target: backend?.name ?? null,
      status: account.status,
      latencyMs,
      ttftMs: account.ttftS === undefined ? null : account.ttftS * 1000,
      interTokenMs: account.interTokenS === undefined ? null : account.interTokenS * 1000,
      overheadMs,
      promptTokens: account.usage?.prompt_tokens ?? null,
      completionTokens: account.usage?.completion_tokens ?? null,
      cachedTokens: account.usage?.prompt_tokens_details?.cached_tokens ?? null,
      cost: null,
      cacheStatus: null,
      retries: account.retries,
      fallbacks: 0,
      decision: account.candidates === undefined ? null : `${this.policy.name}: ${backend?.name ?? 'none'} of ${account.candidates} healthy, attempt ${account.retries + 1}`,
    });
  }
}

const CLIENT_GONE_ERROR = new ApiError(CLIENT_CLOSED, 'client disconnected', 'client_closed');
/** Only returned when every candidate was skipped without an attempt, which the loop guards against. */
const NO_ATTEMPT = badGateway('no backend could be reached');
export const OVERHEAD_HEADER = 'x-switchyard-overhead-ms';

const formatMs = (ms: number) => Math.max(0, ms).toFixed(3);

/** Adds the time since the current attempt was sent to the upstream total (once per attempt). */
function endUpstream(account: Accounting): void {
  if (account.upstreamSentAt === undefined) return;
  account.upstreamMs += performance.now() - account.upstreamSentAt;
  account.upstreamSentAt = undefined;
}

function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return undefined;
  }
}
