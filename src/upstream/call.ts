import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { RequestAbort } from '../gateway/abort.js';

/** Unread chunks past which the upstream is paused until the consumer catches up. */
const HIGH_WATER_CHUNKS = 16;

/**
 * An upstream answer's body, fed straight from undici's dispatch callbacks: no Readable stream
 * in between (it cost ~15–20 µs per request). Read it whole with `readAll` or chunk by chunk as
 * an async iterable; either way exactly once.
 */
export class UpstreamBody implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private done = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (this.chunks.length >= HIGH_WATER_CHUNKS) this.controller.pause();
    this.notify();
  }

  end(): void {
    this.done = true;
    this.notify();
  }

  fail(error: Error): void {
    this.failure = error;
    this.notify();
  }

  /** The whole body, without the async iterator's per-chunk promises (most answers are already complete when read). */
  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      if (this.chunks.length > 0) {
        parts.push(...this.chunks);
        this.chunks.length = 0;
        if (this.controller.paused) this.controller.resume();
      }
      if (this.failure) throw this.failure;
      if (this.done) return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      if (this.chunks.length > 0) {
        const chunk = this.chunks.shift()!;
        if (this.controller.paused && this.chunks.length < HIGH_WATER_CHUNKS / 2) this.controller.resume();
        yield chunk;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
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
