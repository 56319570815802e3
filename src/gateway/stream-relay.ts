import type { ServerResponse } from 'node:http';
import type { BodySink, UpstreamBody } from '../upstream/call.js';
import { abortError, CLIENT_GONE_ERROR, type RequestAbort } from './abort.js';
import type { Usage } from './inference-request.js';
import { cutEvent } from './cut-event.js';
import type { StreamEnding } from './stream-ending.js';
import { StreamTail } from './stream-tail.js';

export interface StreamOutcome {
  ttftS: number | undefined;
  /** Mean gap between chunks after the first (undefined with fewer than two chunks). */
  interTokenS: number | undefined;
  usage: Usage | undefined;
  /** SSE events relayed: about one completion token each, the estimate when the stream reports no usage. */
  events: number;
  /** Set when the stream did not end normally; the client has been told with an error event. */
  error: string | undefined;
  clientGone: boolean;
  /** When the last event was relayed (performance.now()); 0 when none was. */
  lastEventAt: number;
}

/**
 * What a stream goes through on its way to the client, if anything: its provider's translation
 * (StreamTranslator, whose text is written), or, relayed as the target sent it, the removal of the
 * key the router sent (StreamWithoutKey, whose bytes are those that came when it took nothing out).
 */
export interface StreamTransform {
  push(chunk: Buffer): string | Buffer;
  end(): string | Buffer;
}

const TAIL_BYTES = 8192;
const EVENT_END = Buffer.from('\n\n');
const DATA_FIELD = Buffer.from('data:');

/**
 * Relays an SSE body chunk by chunk as it arrives (through its transform, if any),
 * holding the upstream back while the client is slower than the stream. Accounting reads a
 * bounded tail of the stream after it ends, so it never delays a chunk. A stream that breaks, or
 * ends before its route's rule says it is complete (`[DONE]` for chat), is closed with an error
 * event in the route's shape rather than left to look complete.
 */
export function relayStream(
  res: ServerResponse,
  body: UpstreamBody,
  startedAt: number,
  signal: RequestAbort,
  ending: StreamEnding,
  transform?: StreamTransform,
  /** Sees each relayed chunk (the response cache keeps them); must not block. */
  tap?: (bytes: Buffer) => void,
): Promise<StreamOutcome> {
  return new Promise((resolve) => body.pipe(new StreamRelay(res, body, startedAt, signal, resolve, ending, transform, tap)));
}

/** One stream's relay, fed by undici's callbacks; one object rather than closures, as it lives as long as the stream. */
class StreamRelay implements BodySink {
  private ttftS: number | undefined;
  private firstEventAt = 0;
  private lastEventAt = 0;
  private events = 0;
  private readonly kept = new StreamTail(TAIL_BYTES);
  private settled = false;
  private readonly resumeUpstream = () => this.body.resume();

  constructor(
    private readonly res: ServerResponse,
    private readonly body: UpstreamBody,
    private readonly startedAt: number,
    private readonly signal: RequestAbort,
    private readonly resolve: (outcome: StreamOutcome) => void,
    private readonly ending: StreamEnding,
    private readonly transform: StreamTransform | undefined,
    private readonly tap: ((bytes: Buffer) => void) | undefined,
  ) {
    res.on('drain', this.resumeUpstream);
  }

  data(chunk: Buffer): boolean {
    if (this.settled) return true;
    try {
      return this.forward(this.transform ? asBytes(this.transform.push(chunk)) : chunk);
    } catch (error) {
      // Not from inside undici's callback: stop the upstream once it has returned.
      queueMicrotask(() => this.body.cancel(error as Error));
      this.broke(error as Error);
      return true;
    }
  }

  end(): void {
    if (this.settled) return;
    try {
      if (this.transform) this.forward(asBytes(this.transform.end()));
    } catch (error) {
      return this.broke(error as Error);
    }
    const { usage, failure, told } = this.ending.verdict(this.kept.read());
    if (failure === undefined || told) this.res.end();
    else this.endWithError(failure, 'upstream_stream_truncated');
    this.settle(failure, false, usage);
  }

  fail(error: Error): void {
    if (!this.settled) this.broke(error);
  }

  /** Writes one chunk; false when the client's buffer is full. */
  private forward(bytes: Buffer): boolean {
    if (bytes.length === 0) return true;
    // Timing starts at the first data: keep-alive comments an engine sends while it queues are not a token.
    if (this.events > 0 || bytes.indexOf(DATA_FIELD) !== -1) {
      this.lastEventAt = performance.now();
      if (this.events === 0) {
        this.firstEventAt = this.lastEventAt;
        this.ttftS = (this.firstEventAt - this.startedAt) / 1000;
      }
      this.events += countEvents(bytes);
    }
    this.tap?.(bytes);
    this.ending.watch?.(bytes);
    this.kept.push(bytes);
    return this.res.write(bytes);
  }

  private broke(error: Error): void {
    const stopped = abortError(this.signal);
    if (stopped === CLIENT_GONE_ERROR) return this.settle('client disconnected', true);
    // The router stopped the stream (deadline, shutdown): the client is told why.
    const message = stopped ? `${stopped.message} (the stream was cut off)` : `the backend stream broke: ${error.message}`;
    this.endWithError(message, stopped?.code ?? 'upstream_stream_error');
    this.settle(message);
  }

  private endWithError(message: string, code: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    const cut = cutEvent(this.kept.read(), this.kept.holdsStart);
    this.res.end(cut === undefined ? this.ending.errorEvent(message, code) : this.ending.endCutEvent(cut, message, code));
  }

  private settle(error: string | undefined, clientGone = false, usage?: Usage): void {
    this.settled = true;
    this.res.removeListener('drain', this.resumeUpstream);
    // Per event, not per network read: events that arrive in one read were delivered together (gap 0).
    const interTokenS = this.events > 1 ? (this.lastEventAt - this.firstEventAt) / (this.events - 1) / 1000 : undefined;
    this.resolve({ ttftS: this.ttftS, interTokenS, usage, events: this.events, error, clientGone, lastEventAt: this.lastEventAt });
  }
}

const asBytes = (out: string | Buffer): Buffer => (typeof out === 'string' ? Buffer.from(out) : out);

/** SSE events ending in `bytes` (each ends with a blank line); at least 1 so that a partial event still counts as a delivery. */
function countEvents(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(EVENT_END); at !== -1; at = bytes.indexOf(EVENT_END, at + 2)) count++;
  return Math.max(1, count);
}
