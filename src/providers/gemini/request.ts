import { badRequest } from '../../server/errors.js';
import {
  asArray, chatMessages, chatTools, contentParts, mapParameters, parseArguments, parseDataUrl, pushMerged, shown, textContent, toolCalls,
  type ParameterTable, type Part,
} from '../chat-translation.js';
import { thinkingConfig } from './thinking.js';
import { signatureInId } from './thought-signature.js';

/** OpenAI chat parameters → Gemini `generationConfig` fields. `null`: Gemini has no such parameter, so it is dropped. */
export const GEMINI_PARAMETERS: ParameterTable = {
  max_tokens: { to: 'maxOutputTokens' },
  // listed after max_tokens so that the newer name wins when a client sends both
  max_completion_tokens: { to: 'maxOutputTokens' },
  temperature: { to: 'temperature' },
  top_p: { to: 'topP' },
  top_k: { to: 'topK' },
  stop: { to: 'stopSequences', convert: asArray },
  n: { to: 'candidateCount' },
  presence_penalty: { to: 'presencePenalty' },
  frequency_penalty: { to: 'frequencyPenalty' },
  seed: { to: 'seed' },
  response_format: { to: 'responseMimeType', convert: (format) => (isJsonFormat(format) ? 'application/json' : undefined) },
  repetition_penalty: null,
  logit_bias: null,
  logprobs: null,
  top_logprobs: null,
  user: null,
  min_p: null,
  // read apart (see thinking.ts): the mapping of an effort depends on the model
  reasoning_effort: null,
  thinking: null,
};

const PROVIDER = 'Gemini';

type GeminiPart = Record<string, unknown>;

/** The generateContent body for an OpenAI chat request to `model`. */
export function toGeminiRequest(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const system: GeminiPart[] = [];
  const turns: Array<{ role: string; items: GeminiPart[] }> = [];
  // Gemini answers a function call by name; OpenAI tool messages carry only the call's id
  const toolNames = new Map<string, string>();
  chatMessages(body).forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push({ text: textContent(message, index, PROVIDER) });
        return;
      case 'user':
        return pushMerged(turns, 'user', contentParts(message, index, PROVIDER).map((part) => toPart(part, index)));
      case 'assistant': {
        const text = textContent(message, index, PROVIDER);
        const parts: GeminiPart[] = text === '' ? [] : [{ text }];
        for (const call of toolCalls(message, index)) {
          toolNames.set(call.id, call.function.name);
          const part: GeminiPart = { functionCall: { name: call.function.name, args: parseArguments(call.function.arguments, index) } };
          // Gemini 3 refuses a history whose function calls lost the signature it gave them
          const signature = call.extra_content?.google?.thought_signature ?? signatureInId(call.id);
          if (typeof signature === 'string') part.thoughtSignature = signature;
          parts.push(part);
        }
        return pushMerged(turns, 'model', parts);
      }
      case 'tool': {
        const name = toolNames.get(message.tool_call_id ?? '');
        if (!name) throw badRequest(`messages[${index}]: tool_call_id '${shown(message.tool_call_id)}' matches no earlier assistant tool call`, `messages[${index}].tool_call_id`, 'invalid_value');
        return pushMerged(turns, 'user', [{ functionResponse: { name, response: toolResponse(textContent(message, index, PROVIDER)) } }]);
      }
      default:
        throw badRequest(`messages[${index}]: role '${message.role}' is not supported for ${PROVIDER}`, `messages[${index}].role`, 'invalid_value');
    }
  });
  const request: Record<string, unknown> = { contents: turns.map(({ role, items }) => ({ role, parts: items })) };
  if (system.length > 0) request.systemInstruction = { parts: system };
  const generationConfig = mapParameters(body, GEMINI_PARAMETERS);
  const schema = jsonSchemaOf(body.response_format);
  if (schema) generationConfig.responseJsonSchema = schema;
  const thinking = thinkingConfig(body, model);
  if (thinking) generationConfig.thinkingConfig = thinking;
  if (Object.keys(generationConfig).length > 0) request.generationConfig = generationConfig;
  const tools = chatTools(body);
  // `parameters` takes only Gemini's OpenAPI subset of JSON Schema (no additionalProperties, $schema, …); OpenAI tools are full JSON Schema
  if (tools) request.tools = [{ functionDeclarations: tools.map(({ function: fn }) => ({ name: fn.name, description: fn.description, parametersJsonSchema: fn.parameters })) }];
  const toolConfig = toGeminiToolConfig(body.tool_choice);
  if (toolConfig) request.toolConfig = toolConfig;
  return request;
}

const isJsonFormat = (format: unknown): boolean => ['json_object', 'json_schema'].includes((format as { type?: unknown }).type as string);

/** The schema of `response_format: {type: "json_schema", json_schema: {schema}}`. */
function jsonSchemaOf(format: unknown): unknown {
  const { type, json_schema: jsonSchema } = (format ?? {}) as { type?: unknown; json_schema?: { schema?: unknown } };
  return type === 'json_schema' ? jsonSchema?.schema : undefined;
}

function toPart(part: Part, index: number): GeminiPart {
  if (part.kind === 'text') return { text: part.text };
  const inline = parseDataUrl(part.url);
  if (!inline) throw badRequest(`messages[${index}]: Gemini accepts images only as data: URLs (base64), not by link`, `messages[${index}].content`, 'unsupported_content');
  return { inlineData: { mimeType: inline.mediaType, data: inline.data } };
}

/** Gemini wants a JSON object as a function's response; plain text is wrapped. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // plain text
  }
  return { result: text };
}

function toGeminiToolConfig(choice: unknown): Record<string, unknown> | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  const name = (choice as { function?: { name?: unknown } }).function?.name;
  if (typeof name !== 'string') throw badRequest("'tool_choice' must be 'auto', 'required', 'none' or a function", 'tool_choice', 'invalid_value');
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
}
