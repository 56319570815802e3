/** What stands in the text for a key, or a recognisable piece of one, that a provider echoed. */
export const REDACTED_KEY = '[redacted]';

/**
 * A word with a run of mask characters in it, as providers show a key they refuse: OpenAI's
 * `sk-proj-****abcd`, xAI's `xa***cd`, `sk-abc…wxyz`. The groups are the characters kept before
 * and after the mask. Anchored at a word start, so a long word is scanned once, not once per character.
 */
const MASKED_WORD = /(?<![\w-])([\w-]*)[*•….]+([\w-]*)/g;
/** Fewer characters kept than this identify no key (`sk-***` is every OpenAI key). */
const MIN_KEPT = 4;
/** Where a key's kept start may end its public prefix (`sk-proj-`, `sk-ant-api03-`, `gsk_`). */
const SEPARATOR = /[-_]/g;

/**
 * The characters a masked form keeps that tell its key from others: a kept start counts only past
 * its last separator, as what comes before (`sk-proj-`, `sk-ant-api03-`) every key of its provider
 * has, and a stream's text may hold (`OPENAI_API_KEY=sk-proj-...`) without naming any key.
 */
const identifyingChars = (kept: string, last: string): number => kept.length - lastSeparatorEnd(kept) + last.length;

function lastSeparatorEnd(text: string): number {
  let end = 0;
  for (const match of text.matchAll(SEPARATOR)) end = match.index + 1;
  return end;
}

/**
 * `text` without `key`: the whole key, and masked forms that keep enough of its first and last
 * characters to tell it (see identifyingChars).
 * For error texts (a provider's error body, an error event's message), and text KeyScrubber found
 * may hold the key: it runs a regular expression over the whole text.
 */
export function withoutKey(text: string, key: string | undefined): string {
  if (!isSecret(key)) return text;
  const unmasked = text.replaceAll(key, REDACTED_KEY);
  return unmasked.replace(MASKED_WORD, (word: string, kept: string, last: string) =>
    identifyingChars(kept, last) >= MIN_KEPT && key.startsWith(kept) && key.endsWith(last) ? REDACTED_KEY : word,
  );
}

/** Fewer characters than this make a placeholder, not a secret (`EMPTY`, `none`, `sk-1234`, as engines are given): scrubbing it would rewrite model text. */
const MIN_SECRET_CHARS = 8;

/**
 * Whether a key the router sends is one to take out of what comes back: not when none was sent (or
 * an empty one, as an unset `${VAR}` expands), nor a placeholder, whose every occurrence in an
 * answer (`EMPTY`, `test`) would become `[redacted]` and which keeps nothing secret.
 */
export const isSecret = (key: string | undefined): key is string => key !== undefined && key.length >= MIN_SECRET_CHARS;

/** Characters of one end of the key that a masked form withoutKey recognises keeps, unless it keeps SHORT_END of the other end. */
const LONG_END = MIN_KEPT - 1;
/** It keeps MIN_KEPT of both ends, so fewer than LONG_END of one end means this many of the other at least. */
const SHORT_END = MIN_KEPT - LONG_END + 1;

/**
 * withoutKey for bytes that seldom hold the key (a stream's): they are decoded and searched only
 * when they hold the key's first LONG_END characters or its last SHORT_END, and its last LONG_END
 * or its first SHORT_END, as the whole key and every masked form of it do; a native byte search
 * finds them without decoding. Otherwise the bytes go on as they are.
 */
export class KeyScrubber {
  private readonly head: Buffer;
  private readonly tail: Buffer;
  private readonly shortHead: Buffer;
  private readonly shortTail: Buffer;

  constructor(private readonly key: string) {
    this.head = Buffer.from(key.slice(0, LONG_END));
    this.tail = Buffer.from(key.slice(-LONG_END));
    this.shortHead = Buffer.from(key.slice(0, SHORT_END));
    this.shortTail = Buffer.from(key.slice(-SHORT_END));
  }

  /** `bytes` without the key: the same bytes when nothing was taken out. Whole characters only: the caller cuts at line ends. */
  scrub(bytes: Buffer): Buffer {
    if (!this.mayHoldKey(bytes)) return bytes;
    const text = bytes.toString();
    const scrubbed = withoutKey(text, this.key);
    return scrubbed === text ? bytes : Buffer.from(scrubbed);
  }

  private mayHoldKey(bytes: Buffer): boolean {
    const has = (piece: Buffer) => bytes.indexOf(piece) !== -1;
    return (has(this.head) || has(this.shortTail)) && (has(this.tail) || has(this.shortHead));
  }
}
