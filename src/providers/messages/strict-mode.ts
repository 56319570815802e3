import { isJsonObject } from '../chat-translation.js';
import { isObjectSchema } from '../json-schema.js';

/**
 * Keywords OpenAI's strict mode refuses, with its 400, wherever they are in a schema (its
 * structured outputs guide, "Supported schemas"). Anthropic takes `allOf`.
 */
const REFUSED_KEYWORDS = ['allOf', 'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas'];

/**
 * Whether OpenAI's strict mode takes `schema` as it is: an object at the root (not a union), every
 * object closed (`additionalProperties: false`) with all its properties `required`, and no keyword
 * strict mode refuses, through every part of the schema (properties, items, unions, definitions).
 * Anthropic allows optional properties, which its SDK's zod helper writes for `.optional()`, and
 * strict mode has no way to say them but as nullable required properties, which the client would
 * refuse in the answer; a part the check cannot read (a boolean schema) is not taken for strict.
 */
export function meetsStrictMode(schema: unknown): boolean {
  return isJsonObject(schema) && isObjectSchema(schema) && schema.anyOf === undefined && schema.oneOf === undefined && everyPartStrict(schema);
}

function everyPartStrict(schema: unknown): boolean {
  if (!isJsonObject(schema)) return false;
  if (REFUSED_KEYWORDS.some((keyword) => Object.hasOwn(schema, keyword))) return false;
  if (isObjectSchema(schema) && !isClosed(schema)) return false;
  return subschemas(schema).every(everyPartStrict);
}

function isClosed(schema: Record<string, unknown>): boolean {
  const { properties, required } = schema;
  const names = isJsonObject(properties) ? Object.keys(properties) : [];
  return schema.additionalProperties === false && names.every((name) => Array.isArray(required) && required.includes(name));
}

/** The schemas `schema` holds; a keyword's value of the wrong shape is a part that is no schema. */
function subschemas(schema: Record<string, unknown>): unknown[] {
  const parts: unknown[] = [];
  for (const keyword of ['properties', '$defs', 'definitions']) {
    if (Object.hasOwn(schema, keyword)) parts.push(...(isJsonObject(schema[keyword]) ? Object.values(schema[keyword]) : [undefined]));
  }
  for (const keyword of ['anyOf', 'oneOf', 'prefixItems']) {
    if (Object.hasOwn(schema, keyword)) parts.push(...(Array.isArray(schema[keyword]) ? schema[keyword] : [undefined]));
  }
  if (Object.hasOwn(schema, 'items')) parts.push(...(Array.isArray(schema.items) ? schema.items : [schema.items]));
  return parts;
}
