import { sseErrorEvent } from '../gateway/relay.js';
import type { StreamContext, StreamTranslator } from './adapter.js';
import { withoutKey } from './key-echo.js';
import { ChunkWriter } from './openai-chunks.js';
import { SseParser } from './sse-parser.js';

/**
 * The common half of a provider stream translator: SSE framing across arbitrary chunk splits,
 * JSON per event, and a stream that stops translating after its first failure (so one error
 * event ends it). Subclasses turn each provider event into OpenAI chunk text.
 */
export abstract class JsonEventStreamTranslator<Event> implements StreamTranslator {
  private readonly parser: SseParser;
  protected readonly chunks: ChunkWriter;
  protected failed = false;

  constructor(
    model: string,
    protected readonly includeUsage: boolean,
    private readonly provider: string,
    private readonly context: StreamContext,
  ) {
    this.chunks = new ChunkWriter(model);
    // counted in decoded characters, cheaper to track than bytes: for the ASCII JSON providers mostly send, the same number
    this.parser = new SseParser(context.maxEventBytes);
  }

  protected abstract onEvent(event: Event): string;

  /** Throws SseEventTooLargeError for an event past maxEventBytes: the relay ends the stream and counts the backend's failure. */
  push(chunk: Buffer): string {
    return this.translate(this.parser.push(chunk));
  }

  end(): string {
    return this.translate(this.parser.end());
  }

  /** The error event that ends the translated stream; the provider's message loses any echo of the router's key. */
  protected fail(message: string, code: string): string {
    this.failed = true;
    return sseErrorEvent(withoutKey(message, this.context.apiKey), code);
  }

  private translate(events: ReadonlyArray<{ data: string }>): string {
    let out = '';
    for (const { data } of events) {
      if (this.failed) break;
      let event: Event;
      try {
        event = JSON.parse(data) as Event;
      } catch {
        out += this.fail(`${this.provider} sent an event that is not JSON`, 'upstream_stream_error');
        break;
      }
      out += this.onEvent(event);
    }
    return out;
  }
}
