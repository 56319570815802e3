import { badRequest } from '../../server/errors.js';
import {
  asArray, chatMessages, chatTools, contentParts, mapParameters, parseArguments, parseDataUrl, pushMerged, textContent, toolCalls,
  type ChatMessage, type OpenAiTool, type ParameterTable, type Part,
} from '../chat-translation.js';
import { answerSchema, askForSchema, writesStructuredOutputs } from './response-format.js';
import { strictSchema } from './strict-schema.js';
import { effortFields, maxTokensWithThinking, thinkingBlocks } from './thinking.js';

/**
 * Anthropic requires `max_tokens`; this is sent when the client sets neither limit and the target
 * configures no `default_max_tokens`. Every Claude model accepts it (Claude 3 Haiku allows no more),
 * and Anthropic counts a request's max_tokens against the output-tokens-per-minute rate limit as it
 * starts, so a larger default would throttle small accounts.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** OpenAI chat parameters → Messages API fields. `null`: Anthropic has no such parameter, so it is dropped. */
export const ANTHROPIC_PARAMETERS: ParameterTable = {
  max_tokens: { to: 'max_tokens' },
  // listed after max_tokens so that the newer name wins when a client sends both
  max_completion_tokens: { to: 'max_tokens' },
  // OpenAI's range is 0–2, Anthropic's 0–1: above 1 asks for the most varied answers Anthropic gives
  temperature: { to: 'temperature', convert: (value) => (typeof value === 'number' ? Math.min(value, 1) : value) },
  top_p: { to: 'top_p' },
  top_k: { to: 'top_k' },
  // Anthropic refuses stop sequences that are only whitespace ("\n" is common with OpenAI clients); the model's own turn end stands in for them
  stop: { to: 'stop_sequences', convert: (value) => nonBlank(asArray(value)) },
  user: { to: 'metadata', convert: (user) => ({ user_id: user }) },
  // read apart (see thinking.ts): how an effort is said depends on the model
  reasoning_effort: null,
  // Anthropic's own parameter, which LiteLLM takes too: it wins over reasoning_effort's when a client sends both
  thinking: { to: 'thinking' },
  frequency_penalty: null,
  presence_penalty: null,
  repetition_penalty: null,
  logit_bias: null,
  logprobs: null,
  top_logprobs: null,
  n: null,
  seed: null,
  // read apart (see response-format.ts): how a schema is asked for depends on the model
  response_format: null,
  min_p: null,
};

const PROVIDER = 'Anthropic';

/** OpenAI's `tool_choice` words → Anthropic's `tool_choice.type` (a named function is `tool`). A map: a word such as 'constructor' must find nothing. */
export const TOOL_CHOICE_TYPES: ReadonlyMap<string, string> = new Map(Object.entries({ auto: 'auto', required: 'any', none: 'none' }));

type Block = Record<string, unknown>;

/** The Messages API body for an OpenAI chat request. */
export function toAnthropicRequest(body: Record<string, unknown>, model: string, stream: boolean, defaultMaxTokens = DEFAULT_MAX_TOKENS): Record<string, unknown> {
  const system: string[] = [];
  const turns: Array<{ role: string; items: Block[] }> = [];
  chatMessages(body).forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(textContent(message, index, PROVIDER));
        return;
      case 'user':
        // Anthropic refuses empty text blocks
        return pushMerged(turns, 'user', contentParts(message, index, PROVIDER).filter((part) => part.kind !== 'text' || part.text !== '').map(toBlock));
      case 'assistant':
        return pushMerged(turns, 'assistant', assistantBlocks(message, index));
      case 'tool':
        return pushMerged(turns, 'user', [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: textContent(message, index, PROVIDER) }]);
      default:
        throw badRequest(`messages[${index}]: role '${message.role}' is not supported for ${PROVIDER}`, `messages[${index}].role`, 'invalid_value');
    }
  });
  const request: Record<string, unknown> = {
    model,
    messages: turns.map(({ role, items }) => ({ role, content: items })),
    ...effortFields(body.reasoning_effort, model),
    ...mapParameters(body, ANTHROPIC_PARAMETERS),
  };
  request.max_tokens = maxTokensWithThinking(request.max_tokens ?? defaultMaxTokens, request.thinking);
  if (system.length > 0) request.system = system.join('\n\n');
  const tools = chatTools(body);
  if (tools) request.tools = tools.map(({ function: fn }) => anthropicTool(fn, model));
  const toolChoice = toAnthropicToolChoice(body.tool_choice, body.parallel_tool_calls === false);
  if (toolChoice) request.tool_choice = toolChoice;
  const schema = answerSchema(body.response_format);
  if (schema) askForSchema(request, schema, model);
  if (stream) request.stream = true;
  return request;
}

/**
 * A function tool as Anthropic declares it. A strict one stays strict on the models that decode
 * tool inputs to their schema (those with structured outputs), its schema rewritten to what that
 * decoding takes, as a response format's is; other models have no strict tools, and get it as
 * sent, as does a schema whose meaning no rewrite keeps (a map, recursion: see strict-schema.ts).
 */
function anthropicTool(fn: OpenAiTool['function'], model: string): Block {
  const schema = fn.parameters ?? { type: 'object', properties: {} };
  const decoded = fn.strict === true && writesStructuredOutputs(model) ? strictSchema(schema) : undefined;
  if (decoded) return { name: fn.name, description: fn.description, input_schema: decoded, strict: true };
  return { name: fn.name, description: fn.description, input_schema: schema };
}

function nonBlank(sequences: unknown[]): unknown[] | undefined {
  const kept = sequences.filter((sequence) => typeof sequence !== 'string' || sequence.trim() !== '');
  return kept.length > 0 ? kept : undefined;
}

function toBlock(part: Part): Block {
  if (part.kind === 'text') return { type: 'text', text: part.text };
  const inline = parseDataUrl(part.url);
  return { type: 'image', source: inline ? { type: 'base64', media_type: inline.mediaType, data: inline.data } : { type: 'url', url: part.url } };
}

/** An assistant message's blocks in the order Anthropic requires: thinking, text, tool use. */
function assistantBlocks(message: ChatMessage, index: number): Block[] {
  const blocks: Block[] = thinkingBlocks(message, index);
  const text = textContent(message, index, PROVIDER);
  if (text !== '') blocks.push({ type: 'text', text });
  for (const call of toolCalls(message, index)) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments, index) });
  }
  return blocks;
}

function toAnthropicToolChoice(choice: unknown, serialOnly: boolean): Block | undefined {
  let mapped: Block | undefined;
  const type = typeof choice === 'string' ? TOOL_CHOICE_TYPES.get(choice) : undefined;
  if (type !== undefined) mapped = { type };
  else if (choice && typeof choice === 'object') {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name !== 'string') throw badRequest("'tool_choice' must name a function", 'tool_choice', 'invalid_value');
    mapped = { type: 'tool', name };
  } else if (choice !== undefined && choice !== null) {
    throw badRequest("'tool_choice' must be 'auto', 'required', 'none' or a function", 'tool_choice', 'invalid_value');
  }
  if (serialOnly && mapped?.type !== 'none') return { ...(mapped ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return mapped;
}
