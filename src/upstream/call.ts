import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestAbort } from '../gateway/abort.js';

/** Unread chunks past which the upstream is paused until the consumer catches up. */
const HIGH_WATER_CHUNKS = 16;

/** An answer longer than the reader was willing to hold: its upstream call is cancelled. */
export class ResponseTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
  }
}

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
  private paused = false;

  constructor(private readonly upstream: UpstreamFlow) {}

  /** Takes one chunk from undici; false asks it to pause until `resume()`. */
  push(chunk: Buffer): boolean {
    if (this.sink) this.paused = !this.sink.data(chunk);
    else {
      this.chunks.push(chunk);
      this.paused = this.chunks.length >= HIGH_WATER_CHUNKS;
      this.notify();
    }
    return !this.paused;
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

  /**
   * The whole body, without per-chunk promises (most answers are already complete when read).
   * Past `maxBytes` the upstream is cancelled and it throws `ResponseTooLargeError`: an endless or
   * huge answer from a broken or hostile backend must not take the router's memory with it.
   */
  async readAll(maxBytes: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      if (this.chunks.length > 0) {
        for (const chunk of this.chunks) size += chunk.length;
        parts.push(...this.chunks);
        this.chunks.length = 0;
        if (size > maxBytes) {
          const error = new ResponseTooLargeError(maxBytes);
          this.cancel(error);
          throw error;
        }
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
    else this.paused = true;
    if (this.failure) sink.fail(this.failure);
    else if (this.done) sink.end();
  }

  /** The consumer can take more: let the upstream send again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.upstream.resume();
  }

  /** The consumer gave up: stop the upstream (its failure then reaches the sink, which has moved on). */
  cancel(reason: Error): void {
    this.upstream.cancel(reason);
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

/** How a body reaches back to its upstream call. */
export interface UpstreamFlow {
  resume(): void;
  cancel(reason: Error): void;
}

/**
 * Sends one request through `dispatcher` and resolves with the answer's status and headers once
 * they arrive; the body follows through `UpstreamBody`. The request's abort (client gone, deadline)
 * aborts the upstream call at any point.
 */
export function callUpstream(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, abort: RequestAbort): Promise<UpstreamResponse> {
  if (abort.aborted) return Promise.reject(abort.reason);
  return new Promise((resolve, reject) => dispatcher.dispatch(options, new UpstreamCall(abort, resolve, reject)));
}

/**
 * One upstream call, as the handler undici's client drives. It speaks undici 7's core handler
 * interface (`onConnect`, `onHeaders`, `onData`, `onComplete`, `onError`), which the type marks
 * deprecated: undici 7 implements the newer controller interface as an adapter over this one, and
 * the adapter keeps the raw header buffers for the whole life of the answer — ~2 KB per open
 * stream, 3.6 MB with 2,000 idle streams (BENCHMARKS.md). undici 8, which calls the newer interface
 * natively, needs Node ≥ 22.19: move to it when that is our floor. One object with methods, not a
 * handler of closures, for the same reason.
 */
class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamFlow {
  private abortUpstream: ((reason: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private body: UpstreamBody | undefined;
  private readonly onAbort = () => this.abortUpstream?.(this.abort.reason as Error);

  constructor(
    private readonly abort: RequestAbort,
    private readonly resolve: (response: UpstreamResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    abort.on('abort', this.onAbort);
  }

  onConnect(abortUpstream: (reason?: Error) => void): void {
    this.abortUpstream = abortUpstream;
    if (this.abort.aborted) abortUpstream(this.abort.reason as Error);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // Informational answers (100 Continue, 103 Early Hints) precede the real one.
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    this.body = new UpstreamBody(this);
    this.resolve({ statusCode, headers: headersOf(rawHeaders), body: this.body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body!.push(chunk);
  }

  onComplete(): void {
    this.settle();
    this.body!.end();
  }

  onError(error: Error): void {
    this.settle();
    if (this.body) this.body.fail(error);
    else this.reject(error);
  }

  resume(): void {
    this.resumeUpstream?.();
  }

  cancel(reason: Error): void {
    this.abortUpstream?.(reason);
  }

  private settle(): void {
    this.abort.removeListener('abort', this.onAbort);
  }
}

/** undici's raw header list as Node names headers: lower-case names, a repeated header as an array. */
function headersOf(raw: Buffer[]): IncomingHttpHeaders {
  // A plain object, not one without a prototype: V8 keeps those as hash tables, slower to fill and to walk on every answer.
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    // Set as a property, it would replace the object's prototype; no HTTP API means anything by it.
    if (name === '__proto__') continue;
    const value = raw[i + 1]!.toString('latin1');
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  return headers;
}
