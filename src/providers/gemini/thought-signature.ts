/**
 * Gemini's thought signatures ride in a tool call's id as well as in `extra_content`: OpenAI
 * clients that rebuild the assistant message from its documented fields, and Messages API clients
 * (a `tool_use` block has no other field to carry it), send back only the id, and Gemini 3 refuses a
 * history whose function calls lost their signature. LiteLLM's separator, so ids it made read alike.
 */
const SEPARATOR = '__thought__';

/**
 * `id` carrying `signature`, written in base64url so that the id stays within the characters tool
 * ids take (Anthropic's `[a-zA-Z0-9_-]`). A signature that is not canonical base64 would not come
 * back byte for byte, so it is left to `extra_content` alone.
 */
export function idWithSignature(id: string, signature: string | undefined): string {
  if (signature === undefined || signature === '') return id;
  const bytes = Buffer.from(signature, 'base64');
  return bytes.toString('base64') === signature ? `${id}${SEPARATOR}${bytes.toString('base64url')}` : id;
}

/** The signature an id carries (in either base64 alphabet, as LiteLLM's ids have the standard one), as Gemini wrote it. */
export function signatureInId(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const at = id.indexOf(SEPARATOR);
  if (at === -1) return undefined;
  const signature = Buffer.from(id.slice(at + SEPARATOR.length), 'base64').toString('base64');
  return signature === '' ? undefined : signature;
}
