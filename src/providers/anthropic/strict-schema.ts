import { isJsonObject } from '../chat-translation.js';
import { isObjectSchema, resolveRef, subschemas } from '../json-schema.js';

/**
 * A JSON Schema as Anthropic's constrained decoding (`output_config.format`, strict tools) takes
 * it, which is a subset of JSON Schema: Anthropic answers 400 to a numeric or length bound, an
 * object without `additionalProperties: false`, `oneOf`, recursion, and more (its structured
 * outputs guide, "JSON Schema limitations"). The schema is rewritten as Anthropic's own SDK
 * rewrites it before sending (lib/transform-json-schema): what Anthropic decodes to is kept, every
 * object gets `additionalProperties: false`, `oneOf` becomes `anyOf` (a value that fits more than
 * one variant is rare in answers), and what Anthropic would refuse is appended to the schema's
 * `description`, so that the model still reads the constraint it cannot be held to. A reference
 * with keywords beside it, which the SDK sends alone, is replaced by the schema it refers to with
 * those keywords over it, as OpenAI's SDK unravels one for its strict mode, so that neither is lost.
 * The client's schema is not changed: a new one is built. A part of the schema that is no schema
 * object (a boolean schema, a tuple's `items` array) goes as sent, and Anthropic judges it.
 *
 * Undefined when no rewrite keeps the schema's meaning (see keepsMeaning): the caller then asks
 * without constrained decoding, the schema as sent.
 */
export function strictSchema(schema: Record<string, unknown>): Record<string, unknown> | undefined {
  return keepsMeaning(schema) ? (rewritten(schema, schema) as Record<string, unknown>) : undefined;
}

/**
 * Whether Anthropic's constrained decoding can hold answers to what `root` means: no part of it
 * refers to itself or to a schema that contains it (Anthropic refuses recursion), and no object in
 * it takes properties it does not list (`additionalProperties` true or a schema, a map, or
 * `patternProperties`): Anthropic decodes only to closed objects, and a map closed can hold none
 * of its entries. Parts are followed through the references within the document, each once.
 */
function keepsMeaning(root: Record<string, unknown>): boolean {
  const entered = new Set<object>();
  const done = new Set<object>();
  const holds = (schema: unknown): boolean => {
    if (!isJsonObject(schema) || done.has(schema)) return true;
    if (entered.has(schema)) return false;
    if (takesUnlistedProperties(schema)) return false;
    entered.add(schema);
    const parts = subschemas(schema);
    if (Object.hasOwn(schema, '$ref')) parts.push(resolveRef(root, schema.$ref));
    const held = parts.every(holds);
    entered.delete(schema);
    done.add(schema);
    return held;
  };
  return holds(root);
}

const takesUnlistedProperties = (schema: Record<string, unknown>): boolean =>
  (schema.additionalProperties !== undefined && schema.additionalProperties !== false) || schema.patternProperties !== undefined;

/** The string formats Anthropic decodes to; another format is only described. */
const DECODED_FORMATS: ReadonlySet<unknown> = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid']);

type Entry = [string, unknown];

const isPrimitive = (value: unknown): boolean => value === null || typeof value !== 'object';
const isLiteralEnum = (values: unknown): boolean => Array.isArray(values) && values.length > 0 && values.every(isPrimitive);
const isLiteralConst = (value: unknown): boolean => value !== undefined && isPrimitive(value);

/** Keywords a reference may have beside it that leave it a reference: the definitions it may refer to. */
const DEFINITIONS: ReadonlySet<string> = new Set(['$defs', 'definitions']);

function rewritten(schema: unknown, root: Record<string, unknown>): unknown {
  if (!isJsonObject(schema)) return schema;
  if (schema.$ref !== undefined) {
    const target = resolveRef(root, schema.$ref);
    const beside = Object.keys(schema).some((keyword) => keyword !== '$ref' && !DEFINITIONS.has(keyword));
    // The keywords beside win where both say one (a field's own description over its type's), as OpenAI's SDK merges them.
    if (beside && isJsonObject(target)) return rewritten({ ...target, ...Object.fromEntries(Object.entries(schema).filter(([keyword]) => keyword !== '$ref')) }, root);
    // Alone, or referring outside the document (which Anthropic refuses), the reference goes with its definitions only, as Anthropic's SDK sends it.
    return Object.fromEntries(Object.entries(schema).filter(([keyword]) => keyword === '$ref' || DEFINITIONS.has(keyword)).map(([keyword, value]) => [keyword, keyword === '$ref' ? value : rewrittenEach(value, root)]));
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
        kept.push([keyword, rewrittenEach(value, root)]);
        break;
      case 'items':
        kept.push([keyword, rewritten(value, root)]);
        break;
      case 'anyOf':
      case 'allOf':
        kept.push([keyword, rewrittenAll(value, root)]);
        break;
      case 'oneOf':
        // beside an anyOf, which keeps its name, the oneOf is only described
        if (schema.anyOf === undefined) kept.push(['anyOf', rewrittenAll(value, root)]);
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
      // set below on objects, where false is all Anthropic takes (keepsMeaning let no other value through)
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

function rewrittenEach(schemas: unknown, root: Record<string, unknown>): unknown {
  if (!isJsonObject(schemas)) return schemas;
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, rewritten(schema, root)]));
}

const rewrittenAll = (schemas: unknown, root: Record<string, unknown>): unknown => (Array.isArray(schemas) ? schemas.map((schema) => rewritten(schema, root)) : schemas);

/** The description with what Anthropic cannot be held to appended, as Anthropic's SDK writes it: `{minimum: 1, maximum: 10}`. */
function describedWith(description: unknown, described: Entry[]): string | undefined {
  const text = typeof description === 'string' ? description : undefined;
  if (described.length === 0) return text;
  const constraints = `{${described.map(([keyword, value]) => `${keyword}: ${JSON.stringify(value)}`).join(', ')}}`;
  return text ? `${text}\n\n${constraints}` : constraints;
}
