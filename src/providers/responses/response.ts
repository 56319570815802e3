import type { InferenceRequest, Usage } from '../../gateway/inference-request.js';
import { tokenCount } from '../../gateway/usage-counts.js';
import { openAiError } from '../chat-translation.js';
import { routerId } from '../router-id.js';
import { engineCallId, reasoningOf, toolCallsOf, toolName, type Reasoning } from '../messages/response.js';
import { sealedThinking, thinkingBlocksOf } from './thinking-blocks.js';
import { CALL_ITEM_PREFIX, toolCallItem } from './tool-calls.js';
import { toolKind } from './tools.js';

/** The Responses API's statuses of a response and of its output items that the bridge gives. */
export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete';

type Item = Record<string, unknown>;

interface ChatCompletion {
  choices?: Array<{
    message?: Reasoning & { content?: string | null; thinking_blocks?: unknown; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }> };
    finish_reason?: string | null;
  }>;
  usage?: Usage | null;
}

/** Why a chat answer's finish reason leaves a Response incomplete (`incomplete_details.reason`); undefined when it completed. */
export function incompleteReason(finishReason: unknown): string | undefined {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

/**
 * A chat answer (any status) as a Response object: a `reasoning` item with the answer's reasoning
 * as its summary (and Anthropic's signed thinking as its `encrypted_content`), a `message` item
 * with its text, an item per tool call of its tool's kind (tool-calls.ts). The chat translations answer errors in
 * OpenAI's shape already, which the Responses API shares: they pass as they are.
 */
export function toResponsesResponse(status: number, body: Buffer | string, request: InferenceRequest): { status: number; body: string } {
  const text = body.toString();
  if (status >= 300) return { status, body: text };
  let completion: ChatCompletion;
  try {
    completion = JSON.parse(text) as ChatCompletion;
    if (!Array.isArray(completion.choices)) throw new Error('no choices');
  } catch {
    return openAiError(502, 'The backend returned a response that is not a chat completion', 'upstream_error', 'bad_gateway');
  }
  const choice = completion.choices[0];
  const reason = incompleteReason(choice?.finish_reason);
  const itemStatus: ResponseStatus = reason === undefined ? 'completed' : 'incomplete';
  const output: Item[] = [];
  const reasoning = reasoningOf(choice?.message);
  const thinking = sealedThinking(thinkingBlocksOf(choice?.message?.thinking_blocks));
  if (reasoning !== undefined || thinking !== undefined) output.push(reasoningItem(routerId('rs'), reasoning, itemStatus, thinking));
  const answer = choice?.message?.content;
  if (typeof answer === 'string' && answer !== '') output.push(messageItem(routerId('msg'), answer, itemStatus));
  for (const call of toolCallsOf(choice?.message?.tool_calls)) {
    const args = call.function?.arguments;
    const name = toolName(call.function?.name);
    const kind = toolKind(request.body.tools, name);
    output.push(toolCallItem(kind, routerId(CALL_ITEM_PREFIX[kind]), engineCallId(call.id) ?? routerId('call'), name, typeof args === 'string' ? args : '', itemStatus));
  }
  const response = responseObject(request, { id: routerId('resp'), createdAt: Math.floor(Date.now() / 1000), status: itemStatus, reason, output, usage: completion.usage });
  return { status: 200, body: JSON.stringify(response) };
}

export const outputText = (text: string): Item => ({ type: 'output_text', text, annotations: [], logprobs: [] });

export const messageItem = (id: string, text: string | undefined, status: ResponseStatus): Item => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: text === undefined ? [] : [outputText(text)],
});

/** `thinking`: Anthropic's signed thinking blocks, sealed (see thinking-blocks.ts). */
export const reasoningItem = (id: string, summary: string | undefined, status: ResponseStatus, thinking?: string): Item => ({
  id,
  type: 'reasoning',
  summary: summary === undefined ? [] : [{ type: 'summary_text', text: summary }],
  ...(thinking !== undefined && { encrypted_content: thinking }),
  status,
});

/** What a Response is made of besides the request's echo. */
export interface ResponseParts {
  id: string;
  createdAt: number;
  status: ResponseStatus;
  /** Why it is incomplete (`incomplete_details.reason`). */
  reason?: string;
  output: Item[];
  usage?: Usage | null;
}

/**
 * A Response object, with the request fields the API echoes (defaults where the client set none).
 * `store` is true unless the request said false: the router keeps the answer (see
 * gateway/bridged-responses.ts). Usage comes last, where the
 * end rule of a stream (responses-stream.ts) reads it in the terminal event's tail.
 */
export function responseObject(request: InferenceRequest, { id, createdAt, status, reason, output, usage }: ResponseParts): Item {
  const { body } = request;
  const done = status !== 'in_progress';
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: null,
    incomplete_details: reason === undefined ? null : { reason },
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model: request.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls !== false,
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
    reasoning: { effort: (body.reasoning as { effort?: unknown } | null | undefined)?.effort ?? null, summary: null },
    store: body.store !== false,
    temperature: typeof body.temperature === 'number' ? body.temperature : 1,
    text: { format: (body.text as { format?: unknown } | null | undefined)?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: echoedTools(body.tools),
    top_p: typeof body.top_p === 'number' ? body.top_p : 1,
    truncation: 'disabled',
    ...(typeof body.user === 'string' && { user: body.user }),
    metadata: body.metadata ?? {},
    ...(done && { usage: responsesUsage(usage) }),
  };
}

/** The tools as a Response lists them, with the fields each kind always has. */
function echoedTools(tools: unknown): Item[] {
  if (!Array.isArray(tools)) return [];
  return tools.map((tool: Item) => {
    if (tool.type === 'local_shell') return { type: 'local_shell' };
    if (tool.type === 'custom') return { type: 'custom', name: tool.name, ...(typeof tool.description === 'string' && { description: tool.description }), format: tool.format ?? { type: 'text' } };
    return { type: 'function', name: tool.name, description: tool.description ?? null, parameters: tool.parameters ?? null, strict: tool.strict ?? null };
  });
}

/** A chat usage as the Responses API's (the inverse of usageOfResponses); zeros when the target reported none. */
function responsesUsage(usage: Usage | null | undefined): Item {
  const input = tokenCount(usage?.prompt_tokens);
  const output = tokenCount(usage?.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: tokenCount(usage?.prompt_tokens_details?.cached_tokens), cache_write_tokens: tokenCount(usage?.prompt_tokens_details?.cache_write_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: tokenCount(usage?.completion_tokens_details?.reasoning_tokens) },
    total_tokens: tokenCount(usage?.total_tokens) || input + output,
  };
}

