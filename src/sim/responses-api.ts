import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { outputText } from '../providers/responses/response.js';
import { nowSec, type SimUsage } from './responses.js';

/** The OpenAI Responses API as the simulated engine speaks it: Response objects and their typed stream events. */

type Body = Record<string, unknown>;
type Status = 'in_progress' | 'completed' | 'incomplete';

export const responseId = () => `resp_${randomUUID().replaceAll('-', '')}`;
const messageId = () => `msg_${randomUUID().replaceAll('-', '')}`;

/** One generation answered as a Response: what its objects and events are built from. */
export interface ResponsePlan {
  id: string;
  messageId: string;
  model: string;
  createdAt: number;
  tokens: string[];
  /** Cut at `max_output_tokens`: the response ends `incomplete`. */
  cut: boolean;
  request: Body;
}

export function responsePlan(id: string, model: string, tokens: string[], finishReason: 'stop' | 'length', request: Body): ResponsePlan {
  return { id, messageId: messageId(), model, createdAt: nowSec(), tokens, cut: finishReason === 'length', request };
}

export function responseObject(plan: ResponsePlan, status: Status, u?: SimUsage) {
  const { request } = plan;
  const done = status !== 'in_progress';
  return {
    id: plan.id,
    object: 'response',
    created_at: plan.createdAt,
    status,
    completed_at: status === 'completed' ? nowSec() : null,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: typeof request.instructions === 'string' ? request.instructions : null,
    max_output_tokens: typeof request.max_output_tokens === 'number' ? request.max_output_tokens : null,
    model: plan.model,
    output: done ? [outputMessage(plan, status)] : [],
    parallel_tool_calls: true,
    previous_response_id: typeof request.previous_response_id === 'string' ? request.previous_response_id : null,
    reasoning: { effort: null, summary: null },
    store: request.store !== false,
    temperature: typeof request.temperature === 'number' ? request.temperature : 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: typeof request.top_p === 'number' ? request.top_p : 1,
    truncation: 'disabled',
    ...(u ? { usage: responsesUsage(u) } : {}),
    metadata: {},
  };
}

function responsesUsage(u: SimUsage) {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details.cached_tokens, cache_write_tokens: 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.total_tokens,
  };
}


function outputMessage(plan: ResponsePlan, status: Status) {
  const content = status === 'in_progress' ? [] : [outputText(plan.tokens.join(''))];
  return { id: plan.messageId, type: 'message', role: 'assistant', status, content };
}

/**
 * Writes a generation as the Responses API's typed SSE events (`event:` names and `type` fields,
 * numbered by `sequence_number`), ending with `response.completed` or `response.incomplete` and no
 * `[DONE]`; headers and the opening events go with the first token.
 */
export class ResponsesSseWriter {
  private sequence = 0;
  private started = false;

  /** `startingAfter`: events up to this sequence number are left out (a retrieved stream resumed there). */
  constructor(
    private readonly res: ServerResponse,
    private readonly plan: ResponsePlan,
    private readonly startingAfter = -1,
  ) {}

  /** Writes the whole generation at once: a stored response's events, replayed. */
  replay(u: SimUsage): void {
    for (let index = 0; index < this.plan.tokens.length; index++) this.token(index);
    this.end(u);
  }

  token(index: number): void {
    this.start();
    this.send('response.output_text.delta', { ...this.partAddress(), delta: this.plan.tokens[index], logprobs: [] });
  }

  end(u: SimUsage): void {
    this.start();
    const status = this.plan.cut ? 'incomplete' : 'completed';
    const text = this.plan.tokens.join('');
    this.send('response.output_text.done', { ...this.partAddress(), text, logprobs: [] });
    this.send('response.content_part.done', { ...this.partAddress(), part: outputText(text) });
    this.send('response.output_item.done', { output_index: 0, item: outputMessage(this.plan, status) });
    this.send(`response.${status}`, { response: responseObject(this.plan, status, u) });
    this.res.end();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.send('response.created', { response: responseObject(this.plan, 'in_progress') });
    this.send('response.in_progress', { response: responseObject(this.plan, 'in_progress') });
    this.send('response.output_item.added', { output_index: 0, item: outputMessage(this.plan, 'in_progress') });
    this.send('response.content_part.added', { ...this.partAddress(), part: outputText('') });
  }

  private partAddress() {
    return { item_id: this.plan.messageId, output_index: 0, content_index: 0 };
  }

  private send(type: string, fields: Record<string, unknown>): void {
    if (this.sequence <= this.startingAfter) return void this.sequence++;
    this.res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.sequence++ })}\n\n`);
  }
}

/** What an engine keeps of a stored response: its conversation so far (for `previous_response_id`), the response, and its input items. */
export interface StoredResponse {
  conversation: string;
  plan: ResponsePlan;
  usage: SimUsage;
  /** The Response as it was answered. */
  response: ReturnType<typeof responseObject>;
  inputItems: Body[];
}

/** Responses an engine keeps (for `previous_response_id`, retrieval and input items), oldest forgotten first. */
export class StoredResponses {
  private readonly responses = new Map<string, StoredResponse>();

  constructor(private readonly capacity: number) {}

  get(id: string): StoredResponse | undefined {
    return this.responses.get(id);
  }

  store(id: string, response: StoredResponse): void {
    this.responses.set(id, response);
    if (this.responses.size > this.capacity) this.responses.delete(this.responses.keys().next().value!);
  }

  delete(id: string): boolean {
    return this.responses.delete(id);
  }

  clear(): void {
    this.responses.clear();
  }
}
