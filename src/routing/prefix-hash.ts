/** Characters per block: ~4 characters per token × 16-token engine blocks. */
export const DEFAULT_BLOCK_CHARS = 64;

/**
 * Chained hashes of each full `blockChars` chunk of `text`, seeded by the model: the hash of block
 * k names the whole prefix up to its end, so equal hashes mean equal prefixes (no tokeniser needed).
 * Two FNV-1a lanes give 52 usable bits, exact as a JS number.
 */
export function prefixBlockHashes(text: string, model: string, blockChars: number): number[] {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < model.length; i++) {
    a = Math.imul(a ^ model.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ model.charCodeAt(i), 0x5bd1e995);
  }
  const blocks = Math.floor(text.length / blockChars);
  const hashes = new Array<number>(blocks);
  for (let block = 0; block < blocks; block++) {
    const end = (block + 1) * blockChars;
    for (let i = block * blockChars; i < end; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    hashes[block] = (b >>> 12) * 0x100000000 + (a >>> 0);
  }
  return hashes;
}
