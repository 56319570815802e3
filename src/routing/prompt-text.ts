/**
 * One canonical string for everything a chat template would put before the answer: tools first
 * (templates render them ahead of the conversation), then the Messages API's `system` (chat
 * carries it as a message), then every message with its role. Two requests share a KV-cache
 * prefix roughly when their canonical strings share a prefix.
 */
export function canonicalPrompt(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    let text = body.tools === undefined ? '' : `${JSON.stringify(body.tools)}\n`;
    if (body.system !== undefined) text += `\u0001system\n${contentText(body.system)}`;
    for (const message of body.messages as Array<Record<string, unknown>>) {
      const role = message?.role;
      // Not String(): a JSON object with a `toString` key cannot be converted.
      text += `\u0001${typeof role === 'string' ? role : JSON.stringify(role)}\n${contentText(message?.content)}`;
      if (message?.tool_calls !== undefined) text += JSON.stringify(message.tool_calls);
    }
    return text;
  }
  const prompt = body.prompt ?? body.input;
  if (typeof prompt === 'string') return prompt;
  return prompt === undefined ? '' : JSON.stringify(prompt);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  let text = '';
  for (const part of content as Array<Record<string, unknown>>) text += typeof part?.text === 'string' ? part.text : JSON.stringify(part);
  return text;
}
