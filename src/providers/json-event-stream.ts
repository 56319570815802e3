import { sseErrorEvent } from '../gateway/relay.js';
import type { StreamTranslator } from './adapter.js';
import { ChunkWriter } from './openai-chunks.js';
import { SseParser } from './sse-parser.js';

/**
 * The common half of a provider stream translator: SSE framing across arbitrary chunk splits,
 * JSON per event, and a stream that stops translating after its first failure (so one error
 * event ends it). Subclasses turn each provider event into OpenAI chunk text.
 */
export abstract class JsonEventStreamTranslator<Event> implements StreamTranslator {
  private readonly parser = new SseParser();
  protected readonly chunks: ChunkWriter;
  protected failed = false;

  constructor(
    model: string,
    protected readonly includeUsage: boolean,
    private readonly provider: string,
  ) {
    this.chunks = new ChunkWriter(model);
  }

  protected abstract onEvent(event: Event): string;

  push(chunk: Buffer): string {
    return this.translate(this.parser.push(chunk));
  }

  end(): string {
    return this.translate(this.parser.end());
  }

  private translate(events: ReadonlyArray<{ data: string }>): string {
    let out = '';
    for (const { data } of events) {
      if (this.failed) break;
      let event: Event;
      try {
        event = JSON.parse(data) as Event;
      } catch {
        this.failed = true;
        out += sseErrorEvent(`${this.provider} sent an event that is not JSON`, 'upstream_stream_error');
        break;
      }
      out += this.onEvent(event);
    }
    return out;
  }
}
