import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestAbort } from '../gateway/abort.js';

/** Unread chunks past which the upstream is paused until the consumer catches up. */
const HIGH_WATER_CHUNKS = 16;

/** A consumer of a streamed upstream body, fed chunk by chunk from undici's callbacks. */
export interface BodySink {
  /** Takes one chunk; false when it cannot take more for now (it calls `UpstreamBody.resume()` once it can). */
  data(chunk: Buffer): boolean;
  end(): void;
  fail(error: Error): void;
}

/**
 * An upstream answer's body, fed straight from undici's dispatch callbacks: no Readable stream
 * in between (it cost ~15–20 µs per request). Read it whole with `readAll`, or hand it to a
 * `BodySink` with `pipe`; either way exactly once. Streams are piped rather than iterated: an
 * async iterator cost promises per chunk and kept suspended functions alive for every open stream.
 */
export class UpstreamBody {
  private readonly chunks: Buffer[] = [];
  private done = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private sink: BodySink | undefined;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  push(chunk: Buffer): void {
    if (this.sink) {
      if (!this.sink.data(chunk)) this.controller.pause();
      return;
    }
    this.chunks.push(chunk);
    if (this.chunks.length >= HIGH_WATER_CHUNKS) this.controller.pause();
    this.notify();
  }

  end(): void {
    this.done = true;
    if (this.sink) this.sink.end();
    else this.notify();
  }

  fail(error: Error): void {
    this.failure = error;
    if (this.sink) this.sink.fail(error);
    else this.notify();
  }

  /** The whole body, without per-chunk promises (most answers are already complete when read). */
  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      if (this.chunks.length > 0) {
        parts.push(...this.chunks);
        this.chunks.length = 0;
        this.resume();
      }
      if (this.failure) throw this.failure;
      if (this.done) return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Hands the body to `sink`: what has arrived so far at once, the rest as it arrives. */
  pipe(sink: BodySink): void {
    this.sink = sink;
    let ready = true;
    for (const chunk of this.chunks.splice(0)) ready = sink.data(chunk) && ready;
    if (ready) this.resume();
    if (this.failure) sink.fail(this.failure);
    else if (this.done) sink.end();
  }

  /** The consumer can take more: let the upstream send again. */
  resume(): void {
    if (this.controller.paused) this.controller.resume();
  }

  /** The consumer gave up: stop the upstream (its failure then reaches the sink, which has moved on). */
  cancel(reason: Error): void {
    this.controller.abort(reason);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

/**
 * Sends one request through `dispatcher` and resolves with the answer's status and headers once
 * they arrive; the body follows through `UpstreamBody`. The request's abort (client gone, deadline)
 * aborts the upstream call at any point.
 */
export function callUpstream(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, abort: RequestAbort): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let body: UpstreamBody | undefined;
    const onAbort = () => controller?.abort(abort.reason as Error);
    const settle = () => abort.removeListener('abort', onAbort);
    if (abort.aborted) {
      reject(abort.reason);
      return;
    }
    abort.once('abort', onAbort);
    dispatcher.dispatch(options, {
      onRequestStart(started) {
        controller = started;
        if (abort.aborted) started.abort(abort.reason as Error);
      },
      onResponseStart(started, statusCode, headers) {
        body = new UpstreamBody(started);
        resolve({ statusCode, headers, body });
      },
      onResponseData(_controller, chunk) {
        body!.push(chunk);
      },
      onResponseEnd() {
        settle();
        body!.end();
      },
      onResponseError(_controller, error) {
        settle();
        if (body) body.fail(error);
        else reject(error);
      },
    });
  });
}
