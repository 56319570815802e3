import { ResponseEvents, type StreamedItem } from './events.js';

type Item = Record<string, unknown>;

/**
 * A kept Response (one the bridge answered, as its client got it) as the typed events of its
 * stream, as OpenAI replays a stored response (`GET /v1/responses/{id}?stream=true`): the events a
 * live stream of the bridge sends for the same output (events.ts), each item's text in one delta.
 * `response.created` and `response.in_progress` carry the Response begun (no output, no usage),
 * the terminal event the Response as kept. `startingAfter`: the events numbered up to it are left
 * out (OpenAI's `starting_after`, a replay resumed).
 */
export function replayedEvents(response: Item & { output: Item[] }, startingAfter = -1): string {
  const events = new ResponseEvents(startingAfter);
  const { usage, ...answered } = response;
  let out = events.started({ ...answered, status: 'in_progress', completed_at: null, incomplete_details: null, output: [] });
  response.output.forEach((item, index) => {
    const { streamed, text } = streamedItem(item, index);
    out += events.opened(streamed);
    if (text !== '') out += events.delta(streamed, text);
    out += events.done(streamed, text, item);
  });
  return out + events.ended(response);
}

/** An output item of the bridge's as its events name it, with its whole text (its summary's, its message's, its call's arguments or input). */
function streamedItem(item: Item, index: number): { streamed: StreamedItem; text: string } {
  const id = String(item.id);
  const call = { type: 'tool_call' as const, id, index, callId: String(item.call_id), name: String(item.name) };
  switch (item.type) {
    case 'message':
      return { streamed: { type: 'message', id, index }, text: firstText(item.content) };
    case 'reasoning':
      return { streamed: { type: 'reasoning', id, index }, text: firstText(item.summary) };
    case 'function_call':
      return { streamed: { ...call, kind: 'function' }, text: String(item.arguments) };
    case 'custom_tool_call':
      return { streamed: { ...call, kind: 'custom' }, text: String(item.input) };
    default:
      // The bridge's last kind of item, a local_shell_call: added whole when done, with no text of its own.
      return { streamed: { ...call, kind: 'local_shell' }, text: '' };
  }
}

/** The text of the one part the bridge gives a message's content or a reasoning item's summary; none is empty. */
const firstText = (parts: unknown): string => (Array.isArray(parts) && typeof parts[0]?.text === 'string' ? (parts[0].text as string) : '');
