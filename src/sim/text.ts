/** Deterministic stand-ins for a model's tokeniser and sampler: same prompt, same answer. */

const VOCABULARY = (
  'the a fleet router engine token cache prefix replica batch model queue stream latency answer request ' +
  'switch yard signal track route freight carriage engine depot platform timetable junction siding gauge ' +
  'quickly quietly steady bright green amber red clear open closed ready waiting running done'
).split(' ');

const TOKEN_PATTERN = /\w+|[^\w\s]/g;

/** The simulated tokeniser: words and single punctuation marks. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN_PATTERN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** FNV-1a, 32-bit: a cheap stable seed. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: tiny seeded PRNG. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Generation {
  /** Text pieces, one per output token, each but the first with its leading space. */
  tokens: string[];
  finishReason: 'stop' | 'length';
}

/** One word of the sim's vocabulary, drawn with `random`. */
export function word(random: () => number): string {
  return VOCABULARY[Math.floor(random() * VOCABULARY.length)]!;
}

/** The answer to `prompt`: 8 to 40 tokens, cut at `maxTokens` when that is smaller. */
export function generate(prompt: string, model: string, maxTokens: number | undefined): Generation {
  const random = prng(hash32(`${model}\n${prompt}`));
  const natural = 8 + Math.floor(random() * 33);
  const count = maxTokens !== undefined && maxTokens < natural ? Math.max(0, maxTokens) : natural;
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const drawn = word(random);
    tokens.push(i === 0 ? drawn[0]!.toUpperCase() + drawn.slice(1) : ` ${drawn}`);
  }
  return { tokens, finishReason: count < natural ? 'length' : 'stop' };
}

/** A unit vector derived from the text, as little-endian float32s. */
export function embed(text: string, dimensions: number): Float32Array {
  const random = prng(hash32(text));
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    vector[i] = random() * 2 - 1;
    norm += vector[i]! * vector[i]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimensions; i++) vector[i]! /= norm;
  return vector;
}

/** The text a chat request's messages amount to, as a chat template would lay it out. */
export function chatPrompt(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return messages
    .map((message: { role?: unknown; content?: unknown }) => `<|${String(message?.role)}|>\n${contentText(message?.content)}`)
    .join('\n');
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

/**
 * The text a Responses API request amounts to: its instructions, then its `input` (a string is one
 * user message; an array holds messages and other items, such as tool outputs, laid out as JSON).
 */
export function responsesPrompt(instructions: unknown, input: unknown): string {
  const system = typeof instructions === 'string' ? `<|system|>\n${instructions}\n` : '';
  if (typeof input === 'string') return `${system}<|user|>\n${input}`;
  if (!Array.isArray(input)) return system;
  return system + input.map((item: { role?: unknown; content?: unknown }) => (item?.role === undefined ? JSON.stringify(item) : `<|${String(item.role)}|>\n${contentText(item.content)}`)).join('\n');
}
