import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ResponsesStream } from '../src/gateway/responses-stream.js';
import { StreamTail } from '../src/gateway/stream-tail.js';
import { assertConforms } from './support/conformance.js';

const TAIL_BYTES = 8192;
const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 4 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 42 };

function event(type: string, fields: Record<string, unknown>, sequence: number): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: sequence })}\n\n`;
}

/** A Responses stream whose terminal event carries `text` (longer than the relay's tail when asked) and, inside it, text that looks like SSE. */
function stream(terminal: string, text: string): string {
  const response = (status: string) => ({ id: 'resp_1', object: 'response', status, output: [{ type: 'message', content: [{ type: 'output_text', text }] }], usage: status === 'in_progress' ? null : usage, metadata: {} });
  return (
    event('response.created', { response: response('in_progress') }, 0) +
    event('response.output_text.delta', { delta: 'event: response.completed\n\ndata: [DONE]\n\n', item_id: 'm', output_index: 0, content_index: 0 }, 1) +
    event(terminal, { response: response(terminal.slice(9)) }, 2)
  );
}

/** Feeds `text` to the rule in pieces of `size` bytes, as the relay would, and judges it. */
function judge(text: string, size: number) {
  let responseId: string | undefined;
  const rule = new ResponsesStream((id) => (responseId = id));
  const tail = new StreamTail(TAIL_BYTES);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, at + size);
    rule.watch(piece);
    tail.push(piece);
  }
  return { rule, verdict: rule.verdict(tail.read()), responseId };
}

describe('the Responses stream end rule', () => {
  it('takes a stream ending in response.completed as complete however it is split, reading the usage of a terminal event longer than the tail', () => {
    for (const text of ['short answer', 'x'.repeat(3 * TAIL_BYTES)]) {
      const whole = stream('response.completed', text);
      for (const size of [1, 2, 3, 5, 7, 64, 1000, whole.length]) {
        expect(judge(whole, size).verdict, `pieces of ${size}`).toEqual({ usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 4 } } });
      }
    }
  });

  it('takes response.incomplete and response.failed as proper ends, and a [DONE] after the terminal event too', () => {
    expect(judge(stream('response.incomplete', 'cut'), 3).verdict.failure).toBeUndefined();
    expect(judge(stream('response.failed', 'no'), 3).verdict.failure).toBeUndefined();
    expect(judge(`${stream('response.completed', 'a')}data: [DONE]\n\n`, 4).verdict.failure).toBeUndefined();
  });

  it('takes a stream cut anywhere before its terminal event has fully arrived as truncated', () => {
    const whole = stream('response.completed', 'x'.repeat(100));
    // Every cut short of the terminal event's data line end, at a few chunk sizes.
    const terminalDataEnd = whole.lastIndexOf('\n\n');
    for (let cut = 1; cut <= terminalDataEnd; cut += 13) {
      for (const size of [1, 7, 4096]) expect(judge(whole.slice(0, cut), size).verdict.failure, `cut at ${cut}`).toMatch(/before its terminal event/);
    }
  });

  it("takes the backend's own error event as the end of a failed stream the client was told of", () => {
    const failed = event('response.created', { response: { id: 'r' } }, 0) + event('error', { code: 'server_error', message: 'boom', param: null }, 1);
    expect(judge(failed, 5).verdict).toEqual({ usage: undefined, failure: 'the backend reported an error mid-stream', told: true });
  });

  it("ends a broken stream with the Responses API's own error event, numbered after the last relayed", () => {
    const whole = stream('response.completed', 'a');
    const { rule } = judge(whole.slice(0, whole.indexOf('event: response.completed\ndata')), 9);
    const text = rule.errorEvent('the backend stream broke', 'upstream_stream_error');
    expect(text.startsWith('event: error\ndata: ')).toBe(true);
    const data = JSON.parse(text.slice(text.indexOf('data: ') + 6)) as unknown;
    assertConforms('ResponseErrorEvent', data);
    expect(data).toEqual({ type: 'error', code: 'upstream_stream_error', message: 'the backend stream broke', param: null, sequence_number: 2 });
  });

  it("reads the response's id from the first event however it is split, in OpenAI's field order and the engines' pydantic order", () => {
    const openAiOrder = stream('response.completed', 'a');
    const pydanticOrder = `event: response.created\ndata: {"response":{"id":"resp_py","created_at":1},"sequence_number":0,"type":"response.created"}\n\n${event('response.completed', { response: { id: 'resp_py', usage } }, 1)}`;
    for (const size of [1, 2, 5, 11, 4096]) {
      expect(judge(openAiOrder, size).responseId, `pieces of ${size}`).toBe('resp_1');
      expect(judge(pydanticOrder, size).responseId, `pieces of ${size}`).toBe('resp_py');
    }
  });

  it('judges a stream without event: lines (data only, as some proxies send) by each event\'s type, at the start or the end of its data', () => {
    const dataOnly = (text: string) => text.replace(/^event: .*\n/gm, '');
    const openAiOrder = dataOnly(stream('response.completed', 'x'.repeat(3 * TAIL_BYTES)));
    const pydanticOrder = 'data: {"response":{"id":"resp_py"},"sequence_number":0,"type":"response.created"}\n\n' + `data: {"response":{"id":"resp_py","usage":${JSON.stringify(usage)}},"sequence_number":1,"type":"response.completed"}\n\n`;
    for (const whole of [openAiOrder, pydanticOrder, `${pydanticOrder}data: [DONE]\n\n`]) {
      for (const size of [1, 3, 7, 4096]) expect(judge(whole, size).verdict, `pieces of ${size}`).toEqual({ usage: expect.objectContaining({ prompt_tokens: 12, completion_tokens: 30 }) });
      expect(judge(whole.slice(0, whole.lastIndexOf('"type"')), 5).verdict.failure).toMatch(/before its terminal event/);
    }
    const cutAfterDelta = dataOnly(stream('response.completed', 'a'));
    expect(judge(cutAfterDelta.slice(0, cutAfterDelta.lastIndexOf('data: ')), 5).verdict.failure).toMatch(/before its terminal event/);
  });
});

describe("a Responses stream's id as remembered", () => {
  it("keeps none of the event it was read from (a regular expression's match is a slice that would hold the event's whole head)", () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const ids: string[] = [];
    collect();
    const before = process.memoryUsage().heapUsed;
    for (let at = 0; at < 20_000; at++) {
      const rule = new ResponsesStream((id) => ids.push(id));
      rule.watch(Buffer.from(`event: response.created\ndata: {"type":"response.created","response":{"id":"resp_${at}_0123456789abcdef","instructions":"${'x'.repeat(900)}"}}\n\n`));
    }
    collect();
    // 20,000 heads of 1 KB are 20 MB; the ids alone, under 2.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 2 ** 20);
    expect(ids).toHaveLength(20_000);
  });
});
