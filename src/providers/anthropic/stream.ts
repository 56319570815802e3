import type { StreamContext } from '../adapter.js';
import { JsonEventStreamTranslator } from '../json-event-stream.js';
import { DONE_EVENT, type FinishReason } from '../openai-chunks.js';
import type { AnthropicError } from './errors.js';
import { answerFinish } from './response-format.js';
import { finishReason, toOpenAiUsage, updateUsage, type AnthropicUsage } from './response.js';
import { asThinkingBlock, reasoningFields, thinkingDelta } from './thinking.js';

interface AnthropicEvent {
  type: string;
  message?: { id: string; usage?: AnthropicUsage };
  index?: number;
  content_block?: { type: string; text?: string; id?: string; name?: string; thinking?: string; signature?: string; data?: string };
  delta?: { type?: string; text?: string; partial_json?: string; thinking?: string; signature?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: AnthropicError;
}

/**
 * Anthropic's event stream → OpenAI chunks, as each event completes. Tool-use blocks become
 * tool-call deltas numbered in order of appearance, but for calls of `answerTool`, whose input
 * streams as content (see response-format.ts): while the model may still call it, its text is held,
 * and left out once it does (as a whole answer leaves it out), so that the content the client
 * assembles is the JSON it asked for; thinking becomes `reasoning_content` and
 * `thinking_blocks` deltas (see thinking.ts); `[DONE]` is written only after `message_stop`, so a
 * stream cut short stays visibly incomplete.
 */
export class AnthropicStreamTranslator extends JsonEventStreamTranslator<AnthropicEvent> {
  private readonly toolIndexByBlock = new Map<number, number>();
  /** Tool-use blocks whose arguments have not started yet. */
  private readonly toolsWithoutArguments = new Set<number>();
  /** Calls of the answer tool (see response-format.ts), whose input streams as content. */
  private readonly answerBlocks = new Set<number>();
  /** Text written while the answer tool may still be called: sent before the client's own tool calls or the end, dropped once it is called. */
  private heldText = '';
  private usage: AnthropicUsage = {};
  private finish: FinishReason = 'stop';

  constructor(model: string, includeUsage: boolean, context: StreamContext, private readonly answerTool?: string) {
    super(model, includeUsage, 'Anthropic', context);
  }

  protected onEvent(event: AnthropicEvent): string {
    switch (event.type) {
      case 'message_start':
        this.chunks.id = event.message?.id ?? '';
        this.usage = { ...event.message?.usage };
        return this.chunks.delta({ role: 'assistant', content: '' });
      case 'content_block_start':
        return this.onBlockStart(event.index ?? 0, event.content_block);
      case 'content_block_delta':
        return this.onBlockDelta(event.index ?? 0, event.delta);
      case 'content_block_stop':
        return this.onBlockStop(event.index ?? 0);
      case 'message_delta':
        if (event.delta?.stop_reason) this.finish = finishReason(event.delta.stop_reason);
        updateUsage(this.usage, event.usage);
        return '';
      case 'message_stop': {
        const usage = this.includeUsage ? this.chunks.usage(toOpenAiUsage(this.usage)) : '';
        return this.releasedText() + this.chunks.finish(answerFinish(this.finish, this.answerBlocks.size > 0, this.toolIndexByBlock.size)) + usage + DONE_EVENT;
      }
      case 'error':
        return this.fail(`Anthropic: ${event.error?.message ?? 'stream error'}`, event.error?.type ?? 'api_error');
      default:
        // ping and event types added later carry nothing to relay
        return '';
    }
  }

  private onBlockStart(block: number, content: AnthropicEvent['content_block']): string {
    if (content?.type === 'text' && content.text) return this.text(content.text);
    // a redacted block comes whole; a thinking block starts empty and comes in deltas
    const redacted = asThinkingBlock(content);
    if (redacted?.type === 'redacted_thinking') return this.chunks.delta(reasoningFields([redacted]));
    if (content?.type !== 'tool_use') return '';
    this.toolsWithoutArguments.add(block);
    if (content.name === this.answerTool) {
      this.answerBlocks.add(block);
      this.heldText = '';
      return '';
    }
    const index = this.toolIndexByBlock.size;
    this.toolIndexByBlock.set(block, index);
    return this.releasedText() + this.chunks.delta({ tool_calls: [{ index, id: content.id, type: 'function', function: { name: content.name, arguments: '' } }] });
  }

  private onBlockDelta(block: number, delta: AnthropicEvent['delta']): string {
    if (delta?.type === 'text_delta' && delta.text) return this.text(delta.text);
    if (delta?.type === 'thinking_delta' && delta.thinking) return this.chunks.delta(thinkingDelta(delta.thinking, ''));
    if (delta?.type === 'signature_delta' && delta.signature) return this.chunks.delta(thinkingDelta('', delta.signature));
    if (delta?.type !== 'input_json_delta' || !delta.partial_json) return '';
    if (this.answerBlocks.has(block)) {
      this.toolsWithoutArguments.delete(block);
      return this.chunks.delta({ content: delta.partial_json });
    }
    const index = this.toolIndexByBlock.get(block);
    if (index === undefined) return '';
    this.toolsWithoutArguments.delete(block);
    return this.chunks.delta({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] });
  }

  /** A piece of the answer's text, held while the answer tool may still be called (see heldText). */
  private text(text: string): string {
    if (this.answerTool === undefined) return this.chunks.delta({ content: text });
    if (this.answerBlocks.size === 0) this.heldText += text;
    return '';
  }

  /** The text held while the answer tool might be called, once it was not (yet). */
  private releasedText(): string {
    const text = this.heldText;
    this.heldText = '';
    return text === '' || this.answerBlocks.size > 0 ? '' : this.chunks.delta({ content: text });
  }

  /** A call without parameters streams no argument pieces; OpenAI clients parse the joined arguments (or answer), so they get `{}`. */
  private onBlockStop(block: number): string {
    if (!this.toolsWithoutArguments.delete(block)) return '';
    if (this.answerBlocks.has(block)) return this.chunks.delta({ content: '{}' });
    return this.chunks.delta({ tool_calls: [{ index: this.toolIndexByBlock.get(block)!, function: { arguments: '{}' } }] });
  }
}
