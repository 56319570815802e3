import { badRequest } from '../../server/errors.js';
import { isJsonObject, shown } from '../chat-translation.js';
import type { FinishReason } from '../openai-chunks.js';
import { claudeVersion } from './model-version.js';
import { strictSchema } from './strict-schema.js';

/**
 * OpenAI's `response_format` for Claude, as LiteLLM carries it: a JSON schema becomes Anthropic's
 * structured output (`output_config.format`) on the models that have it; older models, and JSON
 * mode (`json_object`) on every model, are made to call a tool whose input schema is the schema,
 * and the tool's input comes back as the answer's content, so that the client reads JSON where it
 * asked for it either way.
 */

/** The tool that carries the answer where structured outputs do not (see askForSchema): LiteLLM's name, which clients that moved from it may know. */
export const ANSWER_TOOL = 'json_tool_call';

type Fields = Record<string, unknown>;

/**
 * The schema JSON mode (`json_object`) asks the answer to match: any JSON object, LiteLLM's. Anthropic's
 * constrained decoding cannot take it (strictSchema gives none): it requires `additionalProperties:
 * false` of every object, which would allow only `{}`. A tool's input is always a JSON object, and a
 * tool that is not strict takes any schema, so the answer tool holds the answer to an object, which
 * a system instruction alone would only ask for (the model may still wrap it in prose or a code fence).
 */
const ANY_OBJECT: Fields = { type: 'object', properties: {}, additionalProperties: true };

/**
 * Whether Anthropic constrains `model`'s answer to a JSON schema (`output_config.format`): Claude
 * 4.5 and later of every family, Mythos and Fable. Opus 4.1 had it only in the beta
 * (`output_format`), so it gets the answer tool, as do ids that name no version.
 */
export function writesStructuredOutputs(model: string): boolean {
  const version = claudeVersion(model);
  return version !== undefined && (version.major >= 5 || (version.major === 4 && version.minor >= 5));
}

/**
 * The JSON schema a `response_format` asks the answer to match: a `json_schema`'s, any object for
 * `json_object`; `text` asks for nothing. A malformed format is refused, as OpenAI refuses it.
 */
export function answerSchema(format: unknown): Fields | undefined {
  if (format === undefined || format === null) return undefined;
  if (!isJsonObject(format)) throw badRequest("Invalid type for 'response_format': expected an object", 'response_format', 'invalid_type');
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return ANY_OBJECT;
    case 'json_schema': {
      const { json_schema: jsonSchema } = format;
      if (!isJsonObject(jsonSchema)) throw badRequest("Missing required parameter: 'response_format.json_schema'", 'response_format.json_schema', 'missing_required_parameter');
      // Anthropic would be asked for it all the same: refused as OpenAI refuses it, so that a client mistake shows against any target.
      if (jsonSchema.strict !== undefined && jsonSchema.strict !== null && typeof jsonSchema.strict !== 'boolean') {
        throw badRequest("Invalid type for 'response_format.json_schema.strict': expected a boolean", 'response_format.json_schema.strict', 'invalid_type');
      }
      if (!isJsonObject(jsonSchema.schema)) {
        throw badRequest("Invalid 'response_format.json_schema.schema': Anthropic needs a JSON Schema object to hold the answer to", 'response_format.json_schema.schema', 'invalid_value');
      }
      return jsonSchema.schema;
    }
    default:
      throw badRequest(`Invalid 'response_format.type': expected 'text', 'json_object' or 'json_schema', got '${shown(format.type)}'`, 'response_format.type', 'invalid_value');
  }
}

/**
 * Asks `model` for an answer matching `schema`, in the Messages API body `request` (its tools,
 * tool choice and thinking already set): structured outputs get the schema rewritten to what
 * Anthropic's constrained decoding takes (strict-schema.ts), where a rewrite keeps its meaning;
 * otherwise the model is given the answer tool, the schema as sent. The answer tool is forced unless the
 * request thinks (Anthropic refuses forced tool use then) or the client has tools of its own, which
 * the model must stay free to call first; then the model calls the answer tool when it answers, as
 * the system prompt (`request.system`, a string here) tells it, after the client's own text.
 */
export function askForSchema(request: Fields, schema: Fields, model: string): void {
  const tools = (request.tools ?? []) as Fields[];
  // the answer would come back as content, not as the client's tool call
  if (tools.some((tool) => tool.name === ANSWER_TOOL)) {
    throw badRequest(`Invalid 'tools': the name '${ANSWER_TOOL}' is reserved for the answer to a json_schema or json_object response_format`, 'tools', 'invalid_value');
  }
  const decoded = decodedSchema(schema, model);
  if (decoded) {
    request.output_config = { ...(request.output_config as Fields | undefined), format: { type: 'json_schema', schema: decoded } };
    return;
  }
  // a tool without strict: true is not decoded to its schema, and Anthropic takes any JSON Schema for it: it goes as sent
  request.tools = [...tools, { name: ANSWER_TOOL, description: 'Give your final answer as this input.', input_schema: schema }];
  const thinking = (request.thinking as { type?: unknown } | undefined)?.type;
  if (tools.length === 0 && (thinking === undefined || thinking === 'disabled')) request.tool_choice = { type: 'tool', name: ANSWER_TOOL };
  // Unforced, the model may answer in text: it is told how to answer, after the client's own system text.
  else request.system = request.system === undefined ? UNFORCED_INSTRUCTION : `${request.system as string}\n\n${UNFORCED_INSTRUCTION}`;
}

/** What the model is told where the answer tool cannot be forced, so that a text answer is the JSON still. */
const UNFORCED_INSTRUCTION = `When you give your final answer, give it as a single JSON object: as the input of the ${ANSWER_TOOL} tool, or, written as text, that object alone, with no other text and no code fence.`;

/**
 * The schema `model`'s structured outputs decode the answer to, or undefined when the model is
 * given the answer tool instead: it has no structured outputs, or no rewrite for them keeps the
 * schema's meaning (a map, recursion: see strict-schema.ts), and a tool takes the schema as sent.
 */
const decodedSchema = (schema: Fields, model: string): Fields | undefined => (writesStructuredOutputs(model) ? strictSchema(schema) : undefined);

const ANSWERED_FORMATS: ReadonlySet<unknown> = new Set(['json_schema', 'json_object']);

/** The tool whose calls are the answer of a request with this body, if it may have one. */
export const answerToolOf = (body: Fields): string | undefined => (ANSWERED_FORMATS.has((body.response_format as { type?: unknown } | null | undefined)?.type) ? ANSWER_TOOL : undefined);

/** The answer tool `model` is given for this body (which the request's translation found well formed), if any: its stream is then held as it comes (see stream.ts). */
export function answerToolFor(body: Fields, model: string): string | undefined {
  const schema = answerSchema(body.response_format);
  return schema && !decodedSchema(schema, model) ? ANSWER_TOOL : undefined;
}

/** A turn that ended to call only the answer tool ended with its answer: the client has no call to run. */
export const answerFinish = (finish: FinishReason, answered: boolean, otherCalls: number): FinishReason => (answered && finish === 'tool_calls' && otherCalls === 0 ? 'stop' : finish);
