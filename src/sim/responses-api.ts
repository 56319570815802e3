import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
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

const textPart = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });

function outputMessage(plan: ResponsePlan, status: Status) {
  const content = status === 'in_progress' ? [] : [textPart(plan.tokens.join(''))];
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

  constructor(
    private readonly res: ServerResponse,
    private readonly plan: ResponsePlan,
  ) {}

  token(index: number): void {
    this.start();
    this.send('response.output_text.delta', { ...this.partAddress(), delta: this.plan.tokens[index], logprobs: [] });
  }

  end(u: SimUsage): void {
    this.start();
    const status = this.plan.cut ? 'incomplete' : 'completed';
    const text = this.plan.tokens.join('');
    this.send('response.output_text.done', { ...this.partAddress(), text, logprobs: [] });
    this.send('response.content_part.done', { ...this.partAddress(), part: textPart(text) });
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
    this.send('response.content_part.added', { ...this.partAddress(), part: textPart('') });
  }

  private partAddress() {
    return { item_id: this.plan.messageId, output_index: 0, content_index: 0 };
  }

  private send(type: string, fields: Record<string, unknown>): void {
    this.res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.sequence++ })}\n\n`);
  }
}

/** Responses an engine keeps for `previous_response_id`: what each conversation amounts to so far, oldest forgotten first. */
export class StoredResponses {
  private readonly conversations = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  get(id: string): string | undefined {
    return this.conversations.get(id);
  }

  store(id: string, conversation: string): void {
    this.conversations.set(id, conversation);
    if (this.conversations.size > this.capacity) this.conversations.delete(this.conversations.keys().next().value!);
  }

  clear(): void {
    this.conversations.clear();
  }
}
