import { isJsonObject } from './chat-translation.js';

/**
 * Whether a JSON Schema describes objects, so that `additionalProperties` and `required` matter to
 * it: its type is or includes `object`, or it names properties without a type, which JSON Schema
 * reads as a constraint on objects.
 */
export function isObjectSchema(schema: Record<string, unknown>): boolean {
  const { type } = schema;
  if (type === undefined) return isJsonObject(schema.properties);
  return type === 'object' || (Array.isArray(type) && type.includes('object'));
}
