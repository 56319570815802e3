import type { Backend } from '../fleet/backend.js';
import type { InferenceRequest } from '../gateway/inference-request.js';

export type AnswerLimitParam = 'max_tokens' | 'max_completion_tokens';

/** What is sent upstream for one attempt. */
export interface UpstreamCall {
  path: string;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** Turns a provider's SSE bytes into the client API's events (OpenAI `chat.completion.chunk`s; Anthropic's on the Messages API route), chunk by chunk. */
export interface StreamTranslator {
  /** The client's SSE text for this upstream chunk (may be empty while an event is incomplete). */
  push(chunk: Buffer): string;
  /** Whatever remains when the upstream ends, including the stream's last event (`data: [DONE]`, `message_stop`) once it completed properly. */
  end(): string;
}

/** What a stream translator is told about the target it reads and the router's limits. */
export interface StreamContext {
  /** The key the router sent the target, if any: scrubbed from error messages that echo it. */
  apiKey: string | undefined;
  /** The longest provider event held whole before translating it (max_response_bytes). */
  maxEventBytes: number;
  /** The model the target was asked for (its own id, which may differ from the fleet's name). */
  upstreamModel: string;
  /**
   * Told the whole Response a translated Responses API stream ends with (`response.completed` or
   * `response.incomplete`) before that event is sent: the router keeps the Responses it bridges.
   */
  onResponse?: (response: Record<string, unknown>) => void;
}

/**
 * How to speak to one kind of target. OpenAI-compatible targets only build the request and
 * relay bytes as they are; translating providers also convert responses and streams.
 */
export interface ProviderAdapter {
  readonly name: string;
  /**
   * Hosted APIs with no free health endpoint (any real probe would be a paid generation): never
   * probed. They count as healthy until passive ejection takes them out, and each health round
   * lets an ejected one back in for another try.
   */
  readonly passiveHealthOnly?: boolean;
  /** `upstreamModel` is the name the target knows the model by (it may differ from the client's). */
  request(request: InferenceRequest, backend: Backend, upstreamModel: string): UpstreamCall;
  /** Converts a whole non-streamed upstream answer (any status) to the client API's shape (OpenAI's; a Message on the Messages API route). */
  response?(status: number, body: Buffer, request: InferenceRequest): { status: number; body: string };
  /**
   * A translator for a streamed answer; none (absent, or undefined for this stream) means the
   * upstream's SSE goes to the client as it is, less any echo of the target's key (see StreamWithoutKey).
   */
  stream?(request: InferenceRequest, context: StreamContext): StreamTranslator | undefined;
  /**
   * The chat parameter that limits an answer's length in chat requests the router writes itself
   * (the Messages API's translation); `max_tokens` when absent, which every engine takes. OpenAI's
   * reasoning models (o-series, gpt-5) refuse `max_tokens`, and all its chat models take `max_completion_tokens`.
   */
  readonly answerLimit?: AnswerLimitParam;
  /** How this target serves the Anthropic Messages API natively; absent, through chat completions (see providers/messages/adapter.ts). */
  readonly messages?: ProviderAdapter;
  /**
   * The target speaks chat completions only (a translated wire format): the Responses API reaches it
   * through chat (see providers/responses/adapter.ts); absent, the target serves it natively.
   */
  readonly chatOnly?: boolean;
  /**
   * On the Responses API route: the target keeps none of its answers (they are translated from chat):
   * the router keeps them itself (see gateway/bridged-responses.ts), rather than remembering a replica holding them.
   */
  readonly storesNoResponses?: boolean;
}

/**
 * An adapter as the provider layer hands it to the fleet: with the adapters of the Messages API and
 * Responses API routes (native, or through chat completions), made once per target rather than per request.
 */
export interface TargetAdapter extends ProviderAdapter {
  readonly messagesRoute: ProviderAdapter;
  readonly responsesRoute: ProviderAdapter;
}

/** `request` with another body, serialised once for the adapter that sends it (as an OpenAI-compatible target gets `raw`). */
export const withBody = (request: InferenceRequest, body: Record<string, unknown>): InferenceRequest => ({ ...request, body, raw: Buffer.from(JSON.stringify(body)) });
