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

/**
 * `text` without `key`: the whole key, and masked forms that keep its first and last characters.
 * For error texts only (a provider's error body, an error event's message): it runs a regular
 * expression over the whole text.
 */
export function withoutKey(text: string, key: string | undefined): string {
  // no key (or an empty one, as an unset `${VAR}` expands) was sent, so none can be echoed
  if (!key) return text;
  const unmasked = text.replaceAll(key, REDACTED_KEY);
  return unmasked.replace(MASKED_WORD, (word: string, kept: string, last: string) =>
    kept.length + last.length >= MIN_KEPT && key.startsWith(kept) && key.endsWith(last) ? REDACTED_KEY : word,
  );
}
