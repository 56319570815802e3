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

/** Keywords whose value maps names to schemas. */
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'];

/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];

/**
 * The schemas `schema` holds (not those it refers to); a keyword's value of the wrong shape is a
 * part that is no schema (undefined). `additionalProperties: false` holds none.
 */
export function subschemas(schema: Record<string, unknown>): unknown[] {
  // gathered as lists and flattened, not pushed spread: a list may hold more schemas than a call takes arguments
  const groups: unknown[][] = [];
  for (const keyword of SCHEMA_MAPS) {
    if (Object.hasOwn(schema, keyword)) groups.push(isJsonObject(schema[keyword]) ? Object.values(schema[keyword]) : [undefined]);
  }
  for (const keyword of SCHEMA_LISTS) {
    if (Object.hasOwn(schema, keyword)) groups.push(Array.isArray(schema[keyword]) ? schema[keyword] : [undefined]);
  }
  if (Object.hasOwn(schema, 'items')) groups.push(Array.isArray(schema.items) ? schema.items : [schema.items]);
  if (isJsonObject(schema.additionalProperties)) groups.push([schema.additionalProperties]);
  if (Object.hasOwn(schema, 'not')) groups.push([schema.not]);
  return groups.flat();
}

/**
 * What a reference within the document (`#`, `#/$defs/name`, any JSON pointer after `#`) points to
 * in `root`; undefined for another document's (`other.json#/…`), an anchor, or a pointer to nothing.
 */
export function resolveRef(root: Record<string, unknown>, ref: unknown): unknown {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) return undefined;
  let node: unknown = root;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!(isJsonObject(node) || Array.isArray(node)) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
