import { asThinkingBlock } from '../anthropic/thinking.js';
import type { ThinkingBlock } from '../openai-chunks.js';

/**
 * Anthropic's signed thinking, carried in a reasoning item's `encrypted_content`: the field a
 * Responses client keeps opaque and sends back with the item (Codex does, with `"store": false`),
 * as Anthropic requires the thinking of the last assistant turn that used tools back with its
 * signatures. It holds the blocks as the chat translation gives them (`thinking_blocks`), as JSON.
 */
export function sealedThinking(blocks: readonly ThinkingBlock[]): string | undefined {
  return blocks.length > 0 ? JSON.stringify(blocks) : undefined;
}

/** The thinking blocks a reasoning item's `encrypted_content` carries; undefined for any other content (OpenAI's own, encrypted). */
export function unsealedThinking(content: unknown): ThinkingBlock[] | undefined {
  if (typeof content !== 'string' || !content.startsWith('[')) return undefined;
  let blocks: unknown;
  try {
    blocks = JSON.parse(content);
  } catch {
    return undefined;
  }
  if (!Array.isArray(blocks)) return undefined;
  const thinking = blocks.map(asThinkingBlock);
  return thinking.length > 0 && thinking.every((block) => block !== undefined) ? (thinking as ThinkingBlock[]) : undefined;
}

/** A message's `thinking_blocks` that are blocks at all: a backend's answer is read, never trusted. */
export function thinkingBlocksOf(blocks: unknown): ThinkingBlock[] {
  return Array.isArray(blocks) ? blocks.map(asThinkingBlock).filter((block) => block !== undefined) : [];
}

/**
 * Adds a streamed delta's `thinking_blocks` to the blocks so far: a thinking block comes in pieces
 * of its text, then its signature (see anthropic/thinking.ts, thinkingDelta), and a piece after a
 * signature begins the next block; a redacted block comes whole.
 */
export function appendThinking(blocks: ThinkingBlock[], delta: unknown): void {
  for (const piece of thinkingBlocksOf(delta)) {
    const last = blocks.at(-1);
    if (piece.type === 'thinking' && last?.type === 'thinking' && (last.signature === '' || piece.thinking === '')) {
      last.thinking += piece.thinking;
      last.signature += piece.signature;
    } else blocks.push({ ...piece });
  }
}
