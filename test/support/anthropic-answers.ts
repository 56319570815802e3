/** Anthropic answers made in a test, for what no recording shows. */

const event = (data: Record<string, unknown>) => `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;

/** An Anthropic stream of one tool use, its input JSON given in `pieces`, after a text block in `textPieces` when any are given. */
export function anthropicToolUseStream(id: string, name: string, pieces: string[], textPieces: string[] = []): string {
  const tool = textPieces.length === 0 ? 0 : 1;
  return [
    event({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 50, output_tokens: 1 } } }),
    ...(tool === 0
      ? []
      : [
          event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
          ...textPieces.map((text) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
          event({ type: 'content_block_stop', index: 0 }),
        ]),
    event({ type: 'content_block_start', index: tool, content_block: { type: 'tool_use', id, name, input: {} } }),
    ...pieces.map((partial_json) => event({ type: 'content_block_delta', index: tool, delta: { type: 'input_json_delta', partial_json } })),
    event({ type: 'content_block_stop', index: tool }),
    event({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } }),
    event({ type: 'message_stop' }),
  ].join('');
}

/** A whole Messages API answer of these content blocks. */
export function anthropicMessage(content: unknown[], stopReason: string): string {
  return JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 50, output_tokens: 30 } });
}
