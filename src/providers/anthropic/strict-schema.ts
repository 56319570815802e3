import { isJsonObject } from '../chat-translation.js';
import { isObjectSchema } from '../json-schema.js';

/**
 * A JSON Schema as Anthropic's constrained decoding (`output_config.format`) takes it, which is a
 * subset of JSON Schema: Anthropic answers 400 to a numeric or length bound, an object without
 * `additionalProperties: false`, `oneOf`, and more. The schema is rewritten as Anthropic's own SDK
 * rewrites it before sending (lib/transform-json-schema): what Anthropic decodes to is kept, every
 * object gets `additionalProperties: false`, `oneOf` becomes `anyOf` (a value that fits more than
 * one variant is rare in answers), and what Anthropic would refuse is appended to the schema's
 * `description`, so that the model still reads the constraint it cannot be held to. The client's
 * schema is not changed: a new one is built. A part of the schema that is no schema object (a
 * boolean schema, a tuple's `items` array) goes as sent, and Anthropic judges it.
 */
export function strictSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return rewritten(schema) as Record<string, unknown>;
}

/** The string formats Anthropic decodes to; another format is only described. */
const DECODED_FORMATS: ReadonlySet<unknown> = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);

type Entry = [string, unknown];

const isPrimitive = (value: unknown): boolean => value === null || typeof value !== 'object';
const isLiteralEnum = (values: unknown): boolean => Array.isArray(values) && values.length > 0 && values.every(isPrimitive);
const isLiteralConst = (value: unknown): boolean => value !== undefined && isPrimitive(value);

function rewritten(schema: unknown): unknown {
  if (!isJsonObject(schema)) return schema;
  // Anthropic's SDK sends a reference with its definitions alone: the schema referred to says the rest.
  if (schema.$ref !== undefined) {
    return Object.fromEntries(Object.entries(schema).filter(([keyword]) => keyword === '$ref' || keyword === '$defs' || keyword === 'definitions').map(([keyword, value]) => [keyword, keyword === '$ref' ? value : rewrittenEach(value)]));
  }
  // an enum or a const says the type, and Anthropic's SDK drops the type beside them
  const literal = isLiteralEnum(schema.enum) || isLiteralConst(schema.const);
  const kept: Entry[] = [];
  const described: Entry[] = [];
  const keepIf = (fits: boolean, keyword: string, value: unknown) => (fits ? kept : described).push([keyword, value]);
  for (const [keyword, value] of Object.entries(schema)) {
    switch (keyword) {
      case 'properties':
      case '$defs':
      case 'definitions':
        kept.push([keyword, rewrittenEach(value)]);
        break;
      case 'items':
        kept.push([keyword, rewritten(value)]);
        break;
      case 'anyOf':
      case 'allOf':
        kept.push([keyword, rewrittenAll(value)]);
        break;
      case 'oneOf':
        // beside an anyOf, which keeps its name, the oneOf is only described
        if (schema.anyOf === undefined) kept.push(['anyOf', rewrittenAll(value)]);
        else described.push([keyword, value]);
        break;
      case 'type':
        if (!literal) kept.push([keyword, value]);
        break;
      case 'required':
      case 'title':
        kept.push([keyword, value]);
        break;
      case 'enum':
        keepIf(isLiteralEnum(value), keyword, value);
        break;
      case 'const':
        keepIf(isLiteralConst(value), keyword, value);
        break;
      case 'format':
        keepIf(DECODED_FORMATS.has(value), keyword, value);
        break;
      case 'minItems':
        keepIf(value === 0 || value === 1, keyword, value);
        break;
      case 'description':
        if (typeof value !== 'string') described.push([keyword, value]);
        break;
      // set below on objects, where false is all Anthropic takes
      case 'additionalProperties':
      // it names the dialect, and constrains nothing
      case '$schema':
        break;
      default:
        described.push([keyword, value]);
    }
  }
  if (isObjectSchema(schema)) kept.push(['additionalProperties', false]);
  const description = describedWith(schema.description, described);
  if (description !== undefined) kept.push(['description', description]);
  return Object.fromEntries(kept);
}

function rewrittenEach(schemas: unknown): unknown {
  if (!isJsonObject(schemas)) return schemas;
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, rewritten(schema)]));
}

const rewrittenAll = (schemas: unknown): unknown => (Array.isArray(schemas) ? schemas.map(rewritten) : schemas);

/** The description with what Anthropic cannot be held to appended, as Anthropic's SDK writes it: `{minimum: 1, maximum: 10}`. */
function describedWith(description: unknown, described: Entry[]): string | undefined {
  const text = typeof description === 'string' ? description : undefined;
  if (described.length === 0) return text;
  const constraints = `{${described.map(([keyword, value]) => `${keyword}: ${JSON.stringify(value)}`).join(', ')}}`;
  return text ? `${text}\n\n${constraints}` : constraints;
}
