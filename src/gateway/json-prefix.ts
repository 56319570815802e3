/** What a container expects next. */
const enum Next {
  Value,
  Key,
  Colon,
  CommaOrEnd,
}

interface Container {
  readonly object: boolean;
  next: Next;
  /** A comma came last: the container cannot close before another member. */
  afterComma: boolean;
}

const LITERALS: Record<string, string> = { t: 'true', f: 'false', n: 'null' };
const NUMBER_CHARS = /[0-9.eE+-]/;
/** A number ending in one of these needs a digit to be one. */
const UNFINISHED_NUMBER = /[-+.eE]$/;

/**
 * The text that turns `prefix`, the start of a JSON object cut anywhere (inside a string, an
 * escape, a number, a literal, between a key and its value, after a comma), into a whole object
 * with `member` (`"name":value`) among its top-level members; undefined when `prefix` is not the
 * start of an object, or is a whole one already. Read once, left to right, keeping only the open
 * containers: what was cut is closed with the least that makes it valid (`null` for a missing value,
 * `""` for a missing key), so everything relayed before the cut parses as it was sent.
 */
export function completeJsonObject(prefix: string, member: string): string | undefined {
  const open: Container[] = [];
  let topDone = false;
  let inString = false;
  let stringIsKey = false;
  /** Inside a string: -1 outside an escape, 0 after its backslash, from 1 after `\u`: one more than its hex digits read. */
  let escape = -1;
  let literal = '';
  let inNumber = false;

  const valueDone = (isKey: boolean): void => {
    const container = open[open.length - 1];
    if (container === undefined) topDone = true;
    else if (isKey) container.next = Next.Colon;
    else {
      container.next = Next.CommaOrEnd;
      container.afterComma = false;
    }
  };
  const expectsValue = (): boolean => (open.length === 0 ? !topDone : open[open.length - 1]!.next === Next.Value);

  for (let at = 0; at < prefix.length; at++) {
    const char = prefix[at]!;
    if (inString) {
      if (escape === 0) escape = char === 'u' ? 1 : -1;
      else if (escape > 0) escape = escape === 4 ? -1 : escape + 1;
      else if (char === '\\') escape = 0;
      // A raw control character (a line feed joining data lines) cannot be in a JSON string.
      else if (char < ' ') return undefined;
      else if (char === '"') {
        inString = false;
        valueDone(stringIsKey);
      }
      continue;
    }
    if (literal !== '') {
      if (char !== literal[0]) return undefined;
      literal = literal.slice(1);
      if (literal === '') valueDone(false);
      continue;
    }
    if (inNumber) {
      if (NUMBER_CHARS.test(char)) continue;
      inNumber = false;
      valueDone(false);
    }
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') continue;
    const container = open[open.length - 1];
    if (char === '{' || char === '[') {
      if (!expectsValue()) return undefined;
      open.push({ object: char === '{', next: char === '{' ? Next.Key : Next.Value, afterComma: false });
    } else if (char === '}' || char === ']') {
      const closable = container !== undefined && container.object === (char === '}') && !container.afterComma;
      if (!closable || (container.next !== Next.CommaOrEnd && container.next !== (container.object ? Next.Key : Next.Value))) return undefined;
      open.pop();
      valueDone(false);
    } else if (char === ',') {
      if (container?.next !== Next.CommaOrEnd) return undefined;
      container.next = container.object ? Next.Key : Next.Value;
      container.afterComma = true;
    } else if (char === ':') {
      if (container?.next !== Next.Colon) return undefined;
      container.next = Next.Value;
    } else if (char === '"') {
      stringIsKey = container?.next === Next.Key;
      if (!stringIsKey && !expectsValue()) return undefined;
      inString = true;
      escape = -1;
    } else if (expectsValue() && (char === '-' || (char >= '0' && char <= '9'))) {
      inNumber = true;
    } else if (expectsValue() && LITERALS[char] !== undefined) {
      literal = LITERALS[char]!.slice(1);
    } else {
      return undefined;
    }
  }

  let completion = '';
  if (inString) {
    // A lone backslash becomes an escaped one; a cut `\u` escape gets its missing hex digits.
    if (escape === 0) completion += '\\';
    else if (escape > 0) completion += '0'.repeat(5 - escape);
    completion += '"';
    valueDone(stringIsKey);
  } else if (literal !== '') {
    completion += literal;
    valueDone(false);
  } else if (inNumber) {
    if (UNFINISHED_NUMBER.test(prefix)) completion += '0';
    valueDone(false);
  }
  if (open.length === 0) return topDone ? undefined : `${completion}{${member}}`;
  if (!open[0]!.object) return undefined;
  for (let depth = open.length - 1; depth >= 0; depth--) {
    const container = open[depth]!;
    // An outer container's value, once the containers inside it are closed, is whole.
    const next = depth < open.length - 1 ? Next.CommaOrEnd : container.next;
    if (next === Next.Colon) completion += ':null';
    else if (next === Next.Value && (container.object || container.afterComma)) completion += 'null';
    else if (next === Next.Key && container.afterComma && depth > 0) completion += '"":null';
    if (depth === 0) {
      const separator = next === Next.Key ? '' : ',';
      return `${completion}${separator}${member}}`;
    }
    completion += container.object ? '}' : ']';
  }
  return undefined;
}
