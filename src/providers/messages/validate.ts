import { badRequest } from '../../server/errors.js';
import { isJsonObject, shown } from '../chat-translation.js';
import { CHAT_TOOL_CHOICES } from './request.js';

type Block = Record<string, unknown>;

/**
 * The string fields Anthropic requires of the content blocks the chat translation reads (and of the
 * thinking blocks clients hand back). Other types pass unchecked: Anthropic adds block types with
 * every beta, and an Anthropic target must get them as sent; a translated target refuses what chat
 * cannot carry, with its own 400.
 */
const BLOCK_STRINGS: ReadonlyMap<string, readonly string[]> = new Map([
  ['text', ['text']],
  ['image', []],
  ['document', []],
  ['thinking', ['thinking', 'signature']],
  ['redacted_thinking', ['data']],
  ['tool_use', ['id', 'name']],
  ['tool_result', ['tool_use_id']],
]);

/** The string fields of an image's or a document's source, by its type; other source types are, like other blocks, Anthropic's to judge. */
const SOURCE_STRINGS: ReadonlyMap<string, readonly string[]> = new Map([
  ['base64', ['media_type', 'data']],
  ['url', ['url']],
  ['file', ['file_id']],
  ['text', ['media_type', 'data']],
]);

/** Anthropic's kinds of thinking; another is refused by Anthropic, and no translation could guess what it asks for. */
const THINKING_TYPES: ReadonlySet<unknown> = new Set(['enabled', 'disabled', 'adaptive']);

/** Anthropic's least thinking budget. */
const MIN_THINKING_BUDGET = 1024;

/** The beta (in `anthropic-beta`) under which a budget may exceed `max_tokens`: it is then the whole turn's, across the thinking between tool calls. */
const INTERLEAVED_THINKING = /(?:^|,)\s*interleaved-thinking-/;

/**
 * The checks Anthropic makes of a Messages body's shape, made on the parsed body before any target
 * is chosen: a malformed body is the client's 400 whichever target would have served it, never a
 * 404 or 503 of routing, and the translation to chat reads only fields checked here. `betas` is
 * the request's `anthropic-beta` header, which may allow what Anthropic otherwise refuses.
 */
export function validateMessagesBody(body: Record<string, unknown>, betas?: unknown): void {
  validateSystem(body.system);
  (body.messages as unknown[]).forEach(validateMessage);
  validateTools(body.tools);
  validateToolChoice(body.tool_choice);
  validateThinking(body.thinking, typeof betas === 'string' && INTERLEAVED_THINKING.test(betas) ? undefined : body.max_tokens);
  validateOutputConfig(body.output_config);
  validateOutputFormat(body.output_format, 'output_format');
}

function validateSystem(system: unknown): void {
  if (system === undefined || system === null || typeof system === 'string') return;
  if (!Array.isArray(system)) throw badRequest("Invalid type for 'system': expected a string or an array of text blocks", 'system', 'invalid_type');
  system.forEach((block: unknown, at) => validateBlock(block, `system[${at}]`));
}

function validateMessage(message: unknown, index: number): void {
  const where = `messages[${index}]`;
  if (!isJsonObject(message)) throw badRequest(`Invalid type for '${where}': expected an object`, where, 'invalid_type');
  if (message.role !== 'user' && message.role !== 'assistant') {
    throw badRequest(`Invalid '${where}.role': expected 'user' or 'assistant', got '${shown(message.role)}'`, `${where}.role`, 'invalid_value');
  }
  validateContent(message.content, `${where}.content`);
}

/** A message's or a tool result's content: a string, or an array of content blocks. */
function validateContent(content: unknown, where: string): void {
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) throw badRequest(`Invalid type for '${where}': expected a string or an array of content blocks`, where, 'invalid_type');
  content.forEach((block: unknown, at) => validateBlock(block, `${where}[${at}]`));
}

function validateBlock(block: unknown, where: string): void {
  if (!isJsonObject(block) || typeof block.type !== 'string') {
    throw badRequest(`Invalid '${where}': expected a content block object with a string 'type'`, where, 'invalid_type');
  }
  const strings = BLOCK_STRINGS.get(block.type);
  if (strings === undefined) return;
  requireStrings(block, strings, where, `a ${block.type} block`);
  switch (block.type) {
    case 'image':
    case 'document':
      return validateSource(block.source, `${where}.source`);
    case 'tool_use':
      if (!isJsonObject(block.input)) throw badRequest(`Invalid type for '${where}.input': expected an object`, `${where}.input`, 'invalid_type');
      return;
    case 'tool_result':
      if (block.content !== undefined && block.content !== null) validateContent(block.content, `${where}.content`);
      return;
  }
}

function validateSource(source: unknown, where: string): void {
  if (!isJsonObject(source) || typeof source.type !== 'string') throw badRequest(`Invalid '${where}': expected a source object with a string 'type'`, where, 'invalid_type');
  requireStrings(source, SOURCE_STRINGS.get(source.type) ?? [], where, `a ${source.type} source`);
}

function requireStrings(object: Block, fields: readonly string[], where: string, what: string): void {
  for (const field of fields) {
    if (typeof object[field] !== 'string') throw badRequest(`Invalid '${where}.${field}': ${what} requires a string '${field}'`, `${where}.${field}`, 'invalid_value');
  }
}

function validateTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) throw badRequest("Invalid type for 'tools': expected an array", 'tools', 'invalid_type');
  tools.forEach((tool: unknown, at) => {
    const where = `tools[${at}]`;
    if (!isJsonObject(tool)) throw badRequest(`Invalid type for '${where}': expected an object`, where, 'invalid_type');
    // Anthropic's own tools (web search, MCP toolsets, …) have a versioned type and fields of their own, Anthropic's to judge.
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      if (typeof tool.type !== 'string') throw badRequest(`Invalid type for '${where}.type': expected a string`, `${where}.type`, 'invalid_type');
      return;
    }
    requireStrings(tool, ['name'], where, 'a client tool');
    if (!isJsonObject(tool.input_schema)) throw badRequest(`Invalid '${where}.input_schema': a client tool requires a JSON Schema object`, `${where}.input_schema`, 'invalid_value');
  });
}

function validateToolChoice(choice: unknown): void {
  if (choice === undefined || choice === null) return;
  const { type, name } = isJsonObject(choice) ? choice : {};
  if ((typeof type === 'string' && CHAT_TOOL_CHOICES.has(type)) || (type === 'tool' && typeof name === 'string')) return;
  throw badRequest("Invalid 'tool_choice': expected {type: 'auto' | 'any' | 'none'} or {type: 'tool', name}", 'tool_choice', 'invalid_value');
}

/**
 * `thinking` as Anthropic takes it: of a known type, and a fixed budget an integer of at least 1024
 * below `maxTokens` (undefined: no limit to stay below, as for a token count or interleaved thinking).
 * `display` is Anthropic's to judge (the translation reads only whether it is `omitted`).
 */
function validateThinking(thinking: unknown, maxTokens: unknown): void {
  if (thinking === undefined || thinking === null) return;
  if (!isJsonObject(thinking)) throw badRequest("Invalid type for 'thinking': expected an object", 'thinking', 'invalid_type');
  if (!THINKING_TYPES.has(thinking.type)) {
    throw badRequest(`Invalid 'thinking.type': expected 'enabled', 'disabled' or 'adaptive', got '${shown(thinking.type)}'`, 'thinking.type', 'invalid_value');
  }
  if (thinking.type !== 'enabled') return;
  const budget = thinking.budget_tokens;
  if (!Number.isSafeInteger(budget) || (budget as number) < MIN_THINKING_BUDGET) {
    throw badRequest(`Invalid 'thinking.budget_tokens': expected an integer of at least ${MIN_THINKING_BUDGET}`, 'thinking.budget_tokens', 'invalid_value');
  }
  if (typeof maxTokens === 'number' && (budget as number) >= maxTokens) {
    throw badRequest("Invalid 'thinking.budget_tokens': must be less than 'max_tokens'", 'thinking.budget_tokens', 'invalid_value');
  }
}

/**
 * `output_config` an object, its `effort` a string (which levels exist is Anthropic's to judge: a
 * translated target refuses one it cannot map) and its `format` a structured output's.
 */
function validateOutputConfig(config: unknown): void {
  if (config === undefined || config === null) return;
  if (!isJsonObject(config)) throw badRequest("Invalid type for 'output_config': expected an object", 'output_config', 'invalid_type');
  const { effort } = config;
  if (effort !== undefined && effort !== null && typeof effort !== 'string') {
    throw badRequest("Invalid type for 'output_config.effort': expected a string", 'output_config.effort', 'invalid_type');
  }
  validateOutputFormat(config.format, 'output_config.format');
}

/**
 * A structured output's format (`output_config.format`, or the beta's `output_format`): a JSON
 * Schema object of type `json_schema`, Anthropic's only one. What the schema may hold is the
 * target's to judge: Anthropic and OpenAI take different subsets of JSON Schema.
 */
function validateOutputFormat(format: unknown, where: string): void {
  if (format === undefined || format === null) return;
  if (!isJsonObject(format)) throw badRequest(`Invalid type for '${where}': expected an object`, where, 'invalid_type');
  if (format.type !== 'json_schema') throw badRequest(`Invalid '${where}.type': expected 'json_schema', got '${shown(format.type)}'`, `${where}.type`, 'invalid_value');
  if (!isJsonObject(format.schema)) throw badRequest(`Invalid '${where}.schema': expected a JSON Schema object`, `${where}.schema`, 'invalid_value');
}
