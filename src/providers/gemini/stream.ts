import type { StreamContext } from '../adapter.js';
import { JsonEventStreamTranslator } from '../json-event-stream.js';
import { DONE_EVENT } from '../openai-chunks.js';
import { googleErrorType } from './errors.js';
import { answerText, finishFailure, finishReason, responseId, thoughtText, toOpenAiUsage, toolCall, type GeminiResponse, type GeminiUsage } from './response.js';

/**
 * streamGenerateContent's SSE (each event a partial GenerateContentResponse) → OpenAI chunks as
 * events complete. Gemini has no end-of-stream marker: the stream counts as complete once every
 * choice's finish reason (or a prompt block) arrived and the upstream then ended, and only then is
 * `[DONE]` written.
 */
export class GeminiStreamTranslator extends JsonEventStreamTranslator<GeminiResponse> {
  private readonly started = new Set<number>();
  private readonly toolCalls = new Map<number, number>();
  private usage: GeminiUsage | undefined;
  private readonly finished = new Set<number>();
  private promptBlocked = false;

  constructor(model: string, includeUsage: boolean, context: StreamContext) {
    super(model, includeUsage, 'Gemini', context);
  }

  override end(): string {
    const out = super.end();
    if (!this.complete() || this.failed) return out;
    const usage = this.includeUsage ? this.chunks.usage(toOpenAiUsage(this.usage ?? {})) : '';
    return out + usage + DONE_EVENT;
  }

  protected onEvent(response: GeminiResponse): string {
    if (response.error) return this.fail(`Gemini: ${response.error.message ?? 'stream error'}`, googleErrorType(response.error, response.error.code ?? 500));
    if (this.chunks.id === '') this.chunks.id = responseId(response);
    if (response.usageMetadata) this.usage = response.usageMetadata;
    const candidates = response.candidates ?? [];
    if (candidates.length === 0 && response.promptFeedback?.blockReason) {
      this.promptBlocked = true;
      return this.start(0) + this.chunks.finish('content_filter');
    }
    let out = '';
    for (const [position, candidate] of candidates.entries()) {
      const index = candidate.index ?? position;
      const parts = candidate.content?.parts ?? [];
      out += this.start(index);
      const reasoning = thoughtText(parts);
      if (reasoning !== '') out += this.chunks.delta({ reasoning_content: reasoning }, index);
      const text = answerText(parts);
      if (text !== '') out += this.chunks.delta({ content: text }, index);
      for (const part of parts) {
        if (!part.functionCall) continue;
        const callIndex = this.toolCalls.get(index) ?? 0;
        this.toolCalls.set(index, callIndex + 1);
        out += this.chunks.delta({ tool_calls: [{ index: callIndex, ...toolCall(part, `${this.chunks.id}_${index}_${callIndex}`) }] }, index);
      }
      if (!candidate.finishReason) continue;
      const failure = finishFailure(candidate);
      if (failure) return out + this.fail(failure.message, failure.code);
      this.finished.add(index);
      out += this.chunks.finish(finishReason(candidate.finishReason, this.toolCalls.has(index)), index);
    }
    return out;
  }

  /** Every choice that started has finished (with n > 1, choices finish one by one). */
  private complete(): boolean {
    return this.promptBlocked || (this.started.size > 0 && this.finished.size === this.started.size);
  }

  /** The opening role chunk, once per choice. */
  private start(index: number): string {
    if (this.started.has(index)) return '';
    this.started.add(index);
    return this.chunks.delta({ role: 'assistant', content: '' }, index);
  }
}
