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
 * those keywords over it, as OpenAI's SDK unravels one for its strict mode, so that neither is lost;
 * so is a reference among an `allOf`'s schemas, which Anthropic refuses there (its guide's
 * limitations), and one that leads out of the document there gives no schema (below).
 * The client's schema is not changed: a new one is built. A part of the schema that is no schema
 * object (a boolean schema, a tuple's `items` array) goes as sent, and Anthropic judges it.
 *
 * Undefined when no rewrite keeps the schema's meaning (see decodableParts, dereferenced), or when the copies
 * of what references refer to would pass COPIED_PARTS, COPIED_CHARS or MAX_DEPTH: the caller then asks without
 * constrained decoding, the schema as sent.
 */
export function strictSchema(schema: Record<string, unknown>): Record<string, unknown> | undefined {
  const parts = decodableParts(schema);
  if (parts === undefined) return undefined;
  const rewrite: Rewrite = { root: schema, left: parts + COPIED_PARTS, charsLeft: COPIED_CHARS, depth: 0 };
  const built = rewritten(schema, rewrite) as Record<string, unknown>;
  return rewrite.left >= 0 ? built : undefined;
}

/**
 * How many schema objects the rewrite may build beyond one for each of the client's. A copy can
 * hold references to copy in turn, so that a schema of a few lines, each level referring to the
 * next twice, would be copied into billions; schemas written by hand or by Pydantic or zod copy far fewer.
 */
const COPIED_PARTS = 10_000;

/**
 * How much of the client's schema, as JSON, the copies of referenced schemas may repeat. COPIED_PARTS
 * counts schema objects, but one object may be as large as the body (thousands of properties, a long
 * enum, `examples`), and 10,000 copies of one would not fit in memory: each copy is counted at its
 * length, the schema it copies with the keywords beside the reference. Copies of schemas written by hand or by Pydantic or zod stay far shorter.
 */
const COPIED_CHARS = 1_000_000;

/**
 * How deep the schema built may nest, copies included: deeper than any request body may (128
 * levels), far shallower than the call stack, which a chain of references copied would exhaust.
 */
const MAX_DEPTH = 256;

interface Rewrite {
  /** The client's schema, which references point into. */
  root: Record<string, unknown>;
  /** How many more schema objects may be built: below 0, the rewrite has stopped. */
  left: number;
  /** How many more characters of the client's schema the copies may repeat (see COPIED_CHARS). */
  charsLeft: number;
  /** How deep the schema object being built is. */
  depth: number;
}

/**
 * How many schema objects `root` holds (each counted once, however often referred to), or
 * undefined when Anthropic's constrained decoding cannot hold answers to what it means: a part of
 * it refers to itself or to a schema that contains it (Anthropic refuses recursion), or an object
 * in it takes properties it does not list (`additionalProperties` true or a schema, a map, or
 * `patternProperties`): Anthropic decodes only to closed objects, and a map closed can hold none
 * of its entries. Parts are followed through the references within the document, each once.
 */
function decodableParts(root: Record<string, unknown>): number | undefined {
  const entered = new Set<object>();
  const done = new Set<object>();
  // a stack of its own, not the call stack: a chain of references may be as long as the body allows
  const path: Array<{ schema: object; parts: unknown[] }> = [];
  const enter = (schema: unknown): boolean => {
    if (!isJsonObject(schema) || done.has(schema)) return true;
    if (entered.has(schema) || takesUnlistedProperties(schema)) return false;
    entered.add(schema);
    const parts = subschemas(schema);
    if (Object.hasOwn(schema, '$ref')) parts.push(resolveRef(root, schema.$ref));
    path.push({ schema, parts });
    return true;
  };
  if (!enter(root)) return undefined;
  while (path.length > 0) {
    const last = path.at(-1)!;
    if (last.parts.length > 0) {
      if (!enter(last.parts.pop())) return undefined;
      continue;
    }
    path.pop();
    entered.delete(last.schema);
    done.add(last.schema);
  }
  return done.size;
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

function rewritten(schema: unknown, rewrite: Rewrite): unknown {
  if (!isJsonObject(schema) || --rewrite.left < 0) return schema;
  if (rewrite.depth === MAX_DEPTH) {
    rewrite.left = -1;
    return schema;
  }
  rewrite.depth += 1;
  const built = rewrittenObject(schema, rewrite);
  rewrite.depth -= 1;
  return built;
}

function rewrittenObject(schema: Record<string, unknown>, rewrite: Rewrite): unknown {
  if (schema.$ref !== undefined) {
    const target = resolveRef(rewrite.root, schema.$ref);
    const beside = Object.keys(schema).some((keyword) => keyword !== '$ref' && !DEFINITIONS.has(keyword));
    if (beside && isJsonObject(target)) {
      const merged = replacedReference(schema, target);
      return copied(merged, rewrite) ? rewritten(merged, rewrite) : schema;
    }
    // Alone, or referring outside the document (which Anthropic refuses), the reference goes with its definitions only, as Anthropic's SDK sends it.
    return Object.fromEntries(Object.entries(schema).filter(([keyword]) => keyword === '$ref' || DEFINITIONS.has(keyword)).map(([keyword, value]) => [keyword, keyword === '$ref' ? value : rewrittenEach(value, rewrite)]));
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
        kept.push([keyword, rewrittenEach(value, rewrite)]);
        break;
      case 'items':
        kept.push([keyword, rewritten(value, rewrite)]);
        break;
      case 'anyOf':
        kept.push([keyword, rewrittenAll(value, rewrite)]);
        break;
      case 'allOf':
        // Anthropic refuses a reference among allOf's schemas: each goes as the schema it refers to
        kept.push([keyword, Array.isArray(value) ? value.map((part) => rewritten(dereferenced(part, rewrite), rewrite)) : value]);
        break;
      case 'oneOf':
        // beside an anyOf, which keeps its name, the oneOf is only described
        if (schema.anyOf === undefined) kept.push(['anyOf', rewrittenAll(value, rewrite)]);
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
      // set below on objects, where false is all Anthropic takes (decodableParts let no other value through)
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

/**
 * `schema` with the reference it is replaced by the schema it refers to within the document, the
 * keywords beside it over that schema (replacedReference), until it is no reference.
 * A reference to nothing in the document (another document's, a boolean schema) stops the
 * rewrite: Anthropic would refuse it there, and the schema keeps its meaning only as sent.
 */
function dereferenced(schema: unknown, rewrite: Rewrite): unknown {
  let part = schema;
  while (isJsonObject(part) && part.$ref !== undefined) {
    const target = resolveRef(rewrite.root, part.$ref);
    // each step counts as a copy, which also ends a chain that decodableParts would have refused as a loop
    if (!isJsonObject(target) || --rewrite.left < 0) {
      rewrite.left = -1;
      return schema;
    }
    const copy = replacedReference(part, target);
    // counted whole, the keywords gathered along the chain with the target's: each step copies them all again
    if (!copied(copy, rewrite)) return schema;
    part = copy;
  }
  return part;
}

/** The schema a reference refers to with the keywords beside the reference over it, which win where both say one (a field's own description over its type's), as OpenAI's SDK merges them. */
function replacedReference(reference: Record<string, unknown>, target: Record<string, unknown>): Record<string, unknown> {
  const { $ref: _replaced, ...beside } = reference;
  return { ...target, ...beside };
}

/** Whether `copy` may be made once more within COPIED_CHARS, which it is counted against; past them the rewrite stops. */
function copied(copy: Record<string, unknown>, rewrite: Rewrite): boolean {
  rewrite.charsLeft -= JSON.stringify(copy).length;
  if (rewrite.charsLeft < 0) rewrite.left = -1;
  return rewrite.left >= 0;
}

function rewrittenEach(schemas: unknown, rewrite: Rewrite): unknown {
  if (!isJsonObject(schemas)) return schemas;
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, rewritten(schema, rewrite)]));
}

const rewrittenAll = (schemas: unknown, rewrite: Rewrite): unknown => (Array.isArray(schemas) ? schemas.map((schema) => rewritten(schema, rewrite)) : schemas);

/** The description with what Anthropic cannot be held to appended, as Anthropic's SDK writes it: `{minimum: 1, maximum: 10}`. */
function describedWith(description: unknown, described: Entry[]): string | undefined {
  const text = typeof description === 'string' ? description : undefined;
  if (described.length === 0) return text;
  const constraints = `{${described.map(([keyword, value]) => `${keyword}: ${JSON.stringify(value)}`).join(', ')}}`;
  return text ? `${text}\n\n${constraints}` : constraints;
}
