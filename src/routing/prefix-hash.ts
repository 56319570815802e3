/** Bytes per block: ~4 bytes (characters of English text) per token × 16-token engine blocks. */
export const DEFAULT_BLOCK_CHARS = 64;

/** Scratch space kept between calls; a larger prompt gets a buffer of its own that is not kept. */
const RETAINED_SCRATCH_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
/** Reused UTF-8 scratch space (the event loop is single-threaded): no allocation per request. */
let scratch = new Uint8Array(64 * 1024);

export interface PromptBlocks {
  /** One hash per full block, each naming the whole prefix up to its end. */
  hashes: number[];
  /** The prompt's length in UTF-8 bytes, the unit blocks are cut in. */
  bytes: number;
}

/**
 * Chained hashes of each full `blockChars`-byte chunk of `text` as UTF-8, seeded by the model:
 * the hash of block k names the whole prefix up to its end, so equal hashes mean equal prefixes
 * (no tokeniser needed). Two multiplicative lanes over 32-bit words give 52 usable bits, exact as
 * a JS number; words rather than characters make a 32 KB prompt cost ~8K steps. `blockChars` is a
 * multiple of 4 (the config requires it): blocks are whole words.
 */
export function prefixBlockHashes(text: string, model: string, blockChars: number): PromptBlocks {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < model.length; i++) {
    a = Math.imul(a ^ model.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ model.charCodeAt(i), 0x5bd1e995);
  }
  const { buffer, written } = encodeUtf8(text);
  const words = new Int32Array(buffer, 0, written >>> 2);
  const wordsPerBlock = Math.max(1, blockChars >>> 2);
  const blocks = Math.floor(words.length / wordsPerBlock);
  const hashes = new Array<number>(blocks);
  for (let block = 0; block < blocks; block++) {
    const end = (block + 1) * wordsPerBlock;
    for (let i = block * wordsPerBlock; i < end; i++) {
      const word = words[i]!;
      a = Math.imul(a ^ word, 0x01000193);
      b = Math.imul(b ^ word, 0x5bd1e995) ^ (a >>> 15);
    }
    hashes[block] = (b >>> 12) * 0x100000000 + (a >>> 0);
  }
  return { hashes, bytes: written };
}

/** The scratch buffer holding `text` as UTF-8 (3 bytes per UTF-16 unit at most). */
function encodeUtf8(text: string): { buffer: ArrayBuffer; written: number } {
  const needed = text.length * 3;
  let target = scratch;
  if (needed > scratch.length) {
    // One huge prompt must not keep tens of megabytes resident for the rest of the process's life.
    target = new Uint8Array(needed);
    if (needed <= RETAINED_SCRATCH_BYTES) scratch = target;
  }
  const { written } = encoder.encodeInto(text, target);
  return { buffer: target.buffer, written };
}

/** Bytes of scratch space kept between calls (for tests). */
export function retainedScratchBytes(): number {
  return scratch.length;
}
