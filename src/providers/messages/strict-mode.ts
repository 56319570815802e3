import { isJsonObject } from '../chat-translation.js';
import { isObjectSchema, subschemas } from '../json-schema.js';

/**
 * Keywords OpenAI's strict mode refuses, with its 400, wherever they are in a schema (its
 * structured outputs guide, "Supported schemas": the composition it does not support, and the
 * keywords of objects and arrays it lists as not supported). Anthropic takes `allOf`. A map's
 * `patternProperties` is also one no closed object holds: strict, its entries could not be written.
 */
const REFUSED_KEYWORDS = [
  'allOf', 'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas',
  'patternProperties', 'unevaluatedProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'unevaluatedItems', 'contains', 'minContains', 'maxContains', 'uniqueItems',
];

/**
 * Whether OpenAI's strict mode takes `schema` as it is: an object at the root (not a union), every
 * object closed (`additionalProperties: false`) with all its properties `required`, no keyword
 * strict mode refuses and no `$ref` with keywords beside it, through every part of the schema
 * (properties, items, unions, definitions).
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
  // a reference only alone: OpenAI's SDK unravels one with keywords beside it (a field's description) before sending it strict
  if (Object.hasOwn(schema, '$ref') && Object.keys(schema).length > 1) return false;
  if (isObjectSchema(schema) && !isClosed(schema)) return false;
  return subschemas(schema).every(everyPartStrict);
}

function isClosed(schema: Record<string, unknown>): boolean {
  const { properties, required } = schema;
  const names = isJsonObject(properties) ? Object.keys(properties) : [];
  // a set, not a search of the list for each name: both may be as long as the body allows
  const listed = new Set(Array.isArray(required) ? required : []);
  return schema.additionalProperties === false && names.every((name) => listed.has(name));
}
