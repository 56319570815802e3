import type { InferenceRequest } from '../gateway/inference-request.js';
import type { StreamContext, StreamTranslator } from './adapter.js';
import { withoutKey } from './key-echo.js';
import { chunkErrorText, parsedChunk } from './openai-chunks.js';
import { SseParser, type SseEvent } from './sse-parser.js';

/** A chat chunk's error, as engines and the chat translations send it. */
export type ChunkError = { message?: unknown; code?: unknown } | string;

/**
 * Chat chunks → another API's event stream (the Messages API's, the Responses API's), read as each
 * event completes: the target's own chunks, or its stream turned into chunks first by `chat`
 * (Anthropic's, Gemini's). Each chunk goes to `onChunk`, `[DONE]` to `finish`, and an error chunk
 * or an event that is no chunk to `errorEvent`, its message less any echo of the router's key.
 * Nothing follows `finish` or `errorEvent`: both end the API's stream.
 */
export abstract class ChatChunkTranslator<Chunk extends { error?: ChunkError | null }> implements StreamTranslator {
  private readonly parser: SseParser;
  private ended = false;
  /** Characters of the stream the translation keeps (for a later event, or to tell when a tool call is whole): at most maxEventBytes. */
  protected held = 0;

  constructor(
    protected readonly request: InferenceRequest,
    private readonly chat: StreamTranslator | undefined,
    protected readonly context: StreamContext,
  ) {
    this.parser = new SseParser(context.maxEventBytes);
  }

  push(chunk: Buffer): string {
    return this.translate(this.parser.push(this.chat ? Buffer.from(this.chat.push(chunk)) : chunk));
  }

  end(): string {
    const rest = this.chat ? this.translate(this.parser.push(Buffer.from(this.chat.end()))) : '';
    return rest + this.translate(this.parser.end());
  }

  protected abstract onChunk(chunk: Chunk): string;

  /** Counts `chars` more kept; past max_response_bytes the stream ends with an error, as an event too long to read does. */
  protected hold(chars: number): void {
    this.held += chars;
    if (this.held > this.context.maxEventBytes) throw new HeldContentTooLargeError(this.context.maxEventBytes);
  }

  /** The API's end of a complete stream, at `[DONE]`. */
  protected abstract finish(): string;

  /** The API's error event that ends the stream with `message`; `error` is the target's, when it sent an error chunk. */
  protected abstract errorEvent(message: string, error: ChunkError | undefined): string;

  private translate(events: SseEvent[]): string {
    let out = '';
    for (const { data } of events) {
      if (this.ended) break;
      if (data === '[DONE]') {
        this.ended = true;
        out += this.finish();
        continue;
      }
      const chunk = parsedChunk<Chunk>(data);
      if (chunk !== undefined && (chunk.error === undefined || chunk.error === null)) {
        out += this.onChunk(chunk);
        continue;
      }
      this.ended = true;
      const error = chunk?.error ?? undefined;
      out +=
        error === undefined
          ? this.errorEvent('The backend sent a stream event that is not a chat completion chunk', undefined)
          : this.errorEvent(withoutKey(chunkErrorText(error), this.context.apiKey), error);
    }
    return out;
  }
}

/** More of a stream than max_response_bytes kept by its translation (the router holds a non-streamed answer to the same bound). */
export class HeldContentTooLargeError extends Error {
  constructor(readonly maxChars: number) {
    super(`the backend sent more than ${maxChars} characters (max_response_bytes) that the router must keep to translate the stream`);
  }
}
