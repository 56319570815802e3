/** Anthropic answers made in a test, for what no recording shows. */

const event = (data: Record<string, unknown>) => `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;

/** An Anthropic stream of one tool use, its input JSON given in `pieces`. */
export function anthropicToolUseStream(id: string, name: string, pieces: string[]): string {
  return [
    event({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 50, output_tokens: 1 } } }),
    event({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id, name, input: {} } }),
    ...pieces.map((partial_json) => event({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json } })),
    event({ type: 'content_block_stop', index: 0 }),
    event({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } }),
    event({ type: 'message_stop' }),
  ].join('');
}

/** A whole Messages API answer of these content blocks. */
export function anthropicMessage(content: unknown[], stopReason: string): string {
  return JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 50, output_tokens: 30 } });
}
