import { randomUUID } from 'node:crypto';
import { generate, hash32, prng, word } from './text.js';

/**
 * What a simulated answer consists of: `n` choices, each plain text, JSON (`response_format`) or a
 * tool call (`tools`), as an engine would produce them, so that clients exercising those features
 * get answers of the right shape.
 */

type Body = Record<string, unknown>;

/** One choice. `pieces` are its output tokens: the content's text, or its tool call's arguments. */
export interface SimChoice {
  index: number;
  pieces: string[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  toolCall?: { id: string; name: string };
}

/** A request an engine refuses (400); `param` names the field at fault. */
export class SimRequestError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** OpenAI's range for `n`. */
const MAX_CHOICES = 128;
/** Deeper schemas (or recursive ones) get null there rather than an endless instance. */
const MAX_SCHEMA_DEPTH = 8;
/**
 * The values of one instance, beyond which the rest are null: a schema's references may branch
 * (a node type with many properties of its own type), making a depth-bound instance exponential
 * in the depth: a request of a few hundred bytes held the sim's CPU for minutes.
 */
const MAX_INSTANCE_VALUES = 2000;

/** The choices answering `prompt`; chat requests may ask for JSON or a tool call, completions only for `n`. */
export function simChoices(kind: 'chat' | 'completions', body: Body, prompt: string, model: string, maxTokens: number | undefined): SimChoice[] {
  const n = body.n ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CHOICES) throw new SimRequestError(`n must be an integer from 1 to ${MAX_CHOICES}`, 'n');
  const tool = kind === 'chat' ? calledTool(body) : undefined;
  const json = kind === 'chat' ? jsonFormat(body.response_format) : undefined;
  const choices: SimChoice[] = [];
  for (let index = 0; index < n; index++) {
    // Choice 0 is the answer a request without `n` gets; the others differ, deterministically.
    const seed = index === 0 ? prompt : `${prompt}\n<|choice ${index}|>`;
    if (tool) {
      const args = JSON.stringify(instanceOf(tool.parameters, prng(hash32(`${model}\n${seed}`))));
      choices.push({ index, ...cut(jsonPieces(args), maxTokens, 'tool_calls'), toolCall: { id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`, name: tool.name } });
      continue;
    }
    const generation = generate(seed, model, maxTokens);
    if (!json) {
      choices.push({ index, pieces: generation.tokens, finishReason: generation.finishReason });
      continue;
    }
    const value = json === 'object' ? { answer: generation.tokens.join('') } : instanceOf(json, prng(hash32(`${model}\n${seed}`)));
    choices.push({ index, ...cut(jsonPieces(JSON.stringify(value)), maxTokens, 'stop') });
  }
  return choices;
}

function cut(pieces: string[], maxTokens: number | undefined, finishReason: 'stop' | 'tool_calls'): Pick<SimChoice, 'pieces' | 'finishReason'> {
  if (maxTokens === undefined || pieces.length <= maxTokens) return { pieces, finishReason };
  return { pieces: pieces.slice(0, Math.max(0, maxTokens)), finishReason: 'length' };
}

/** JSON text in token-sized pieces that join back to it exactly (JSON.stringify leaves no trailing space). */
function jsonPieces(text: string): string[] {
  return text.match(/\s*(?:\w+|[^\w\s])/g) ?? [];
}

interface CalledTool {
  name: string;
  parameters: unknown;
}

/**
 * The function the model calls, if any: the one `tool_choice` names, the first with `required`,
 * and with `auto` (the default) the first when the conversation's last turn is the user's, so
 * that an agent loop ends: the user asks, the model calls, the tool answers, the model replies.
 */
function calledTool(body: Body): CalledTool | undefined {
  const functions = (Array.isArray(body.tools) ? body.tools : [])
    .filter((tool: { type?: unknown; function?: { name?: unknown } }) => tool?.type === 'function' && typeof tool.function?.name === 'string')
    .map((tool: { function: { name: string; parameters?: unknown } }) => ({ name: tool.function.name, parameters: tool.function.parameters }));
  const choice = body.tool_choice as { function?: { name?: unknown } } | string | undefined;
  if (choice === 'none') return undefined;
  // Checked before "no tools, no call": a request without tools names a function that is not in them too.
  if (typeof choice === 'object' && choice !== null) {
    const named = functions.find((f) => f.name === choice.function?.name);
    if (!named) throw new SimRequestError(`tool_choice names a function that is not in tools: ${String(choice.function?.name)}`, 'tool_choice');
    return named;
  }
  if (functions.length === 0) {
    // OpenAI refuses a call required of no tools rather than answer in text.
    if (choice === 'required') throw new SimRequestError("tool_choice 'required' needs at least one function in tools", 'tool_choice');
    return undefined;
  }
  if (choice === 'required') return functions[0];
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return (messages.at(-1) as { role?: unknown } | undefined)?.role === 'user' ? functions[0] : undefined;
}

/** 'object' for `json_object`, the schema for `json_schema`, undefined for text. */
function jsonFormat(format: unknown): 'object' | Record<string, unknown> | undefined {
  const { type, json_schema } = (format ?? {}) as { type?: unknown; json_schema?: { schema?: unknown } };
  if (type === 'json_object') return 'object';
  if (type === 'json_schema') return (json_schema?.schema as Record<string, unknown> | undefined) ?? {};
  return undefined;
}

/** What making one instance reads: where `$ref`s point, and how many values it may still hold. */
interface Making {
  random: () => number;
  root: unknown;
  valuesLeft: number;
}

/** A value that fits `schema` (the JSON Schema subset structured outputs use), made from `random`. */
function instanceOf(schema: unknown, random: () => number): unknown {
  return valueOf(schema, { random, root: schema, valuesLeft: MAX_INSTANCE_VALUES }, 0);
}

function valueOf(schema: unknown, making: Making, depth: number): unknown {
  if (!schema || typeof schema !== 'object' || depth > MAX_SCHEMA_DEPTH || making.valuesLeft <= 0) return null;
  making.valuesLeft--;
  const { random } = making;
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string') return valueOf(resolveRef(making.root, s.$ref), making, depth + 1);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0] ?? null;
  const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) return valueOf(alternatives.find((a) => (a as { type?: unknown })?.type !== 'null') ?? alternatives[0], making, depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : (s.type ?? (s.properties ? 'object' : undefined));
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, valueOf(property, making, depth + 1)]));
    }
    case 'array':
      return [valueOf(s.items, making, depth + 1)];
    case 'string':
      return word(random);
    case 'integer':
      return Math.floor(random() * 100);
    case 'number':
      return Math.round(random() * 1000) / 10;
    case 'boolean':
      return random() < 0.5;
    default:
      return null;
  }
}

/** A local reference (`#/$defs/Step`), as structured-output schemas use for shared and recursive parts. */
function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node = root;
  for (const part of ref.slice(1).split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~')];
  return node;
}
