import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOC_PATH = join(import.meta.dirname, '../../../shared/conformance/openai-openapi.json');
const DOC_ID = 'openai.json';

/**
 * OpenAPI 3.0's `nullable: true` is not JSON Schema; it is rewritten to what it means (the value
 * may also be null) so the document compiles under draft 2020-12.
 */
function withoutNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNullable);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const schema = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, withoutNullable(v)]));
  if (nullable !== true) return schema;
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  return { anyOf: [schema, { type: 'null' }] };
}

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

export function schemaValidator(name: string): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    (addFormats as unknown as (a: unknown) => void)(ajv);
    ajv.addFormat('unixtime', true);
    const doc = withoutNullable(JSON.parse(readFileSync(DOC_PATH, 'utf8'))) as Record<string, unknown>;
    ajv.addSchema({ ...doc, $id: DOC_ID });
  }
  const known = validators.get(name);
  if (known) return known;
  const validate = ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${name}` });
  validators.set(name, validate);
  return validate;
}

/** Throws with Ajv's errors when `value` does not match the named OpenAI schema. */
export function assertConforms(name: string, value: unknown): void {
  const validate = schemaValidator(name);
  if (!validate(value)) throw new Error(`${name} does not conform:\n${JSON.stringify(validate.errors, null, 2)}\n${JSON.stringify(value).slice(0, 2000)}`);
}

/** The OpenAPI document's schema of each Responses stream event the sim and the chat bridge send (their union's errors would name every other event). */
export const RESPONSE_EVENT_SCHEMA: Record<string, string> = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  'response.custom_tool_call_input.delta': 'ResponseCustomToolCallInputDeltaEvent',
  'response.custom_tool_call_input.done': 'ResponseCustomToolCallInputDoneEvent',
  'response.reasoning_summary_part.added': 'ResponseReasoningSummaryPartAddedEvent',
  'response.reasoning_summary_part.done': 'ResponseReasoningSummaryPartDoneEvent',
  'response.reasoning_summary_text.delta': 'ResponseReasoningSummaryTextDeltaEvent',
  'response.reasoning_summary_text.done': 'ResponseReasoningSummaryTextDoneEvent',
  'response.completed': 'ResponseCompletedEvent',
  'response.incomplete': 'ResponseIncompleteEvent',
  error: 'ResponseErrorEvent',
};
