import { meetsStrictMode } from './strict-mode.js';

/**
 * The name chat's `response_format` requires of a schema, which Anthropic's format has none of:
 * LiteLLM's Messages adapter names it so, and only the target reads it.
 */
const SCHEMA_NAME = 'structured_output';

type OutputFormat = { schema: Record<string, unknown> };

/**
 * The schema of a Messages body's structured output, which validateMessagesBody has found well
 * formed: the beta `output_format` (under `anthropic-beta: structured-outputs-…`) or the current
 * `output_config.format`, the beta's first when both come, as Anthropic's SDK reads them.
 */
export function outputSchema(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const format = (body.output_format ?? (body.output_config as { format?: unknown } | null | undefined)?.format) as OutputFormat | null | undefined;
  return format?.schema;
}

/**
 * The chat `response_format` of a Messages body's structured output (see outputSchema). The schema
 * goes as sent, strict as Anthropic's constrained decoding is when OpenAI's strict mode takes it,
 * so that the target keeps to it; otherwise (optional properties, which Anthropic allows and
 * strict mode refuses with a 400) not strict, and the target follows it as best it can.
 */
export function chatResponseFormat(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const schema = outputSchema(body);
  if (schema === undefined) return undefined;
  return { type: 'json_schema', json_schema: { name: SCHEMA_NAME, schema, strict: meetsStrictMode(schema) } };
}
