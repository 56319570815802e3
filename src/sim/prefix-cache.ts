/**
 * A paged KV cache with automatic prefix caching, as vLLM keeps it: the prompt is cut into blocks
 * of `blockSize` tokens, each full block is named by a hash chained over all tokens before it, and
 * blocks no running sequence references stay cached until LRU eviction needs their room.
 * Partial blocks and room for generated tokens are anonymous: held while running, never shared.
 */
export class PrefixCache {
  /** Hashed blocks (referenced or evictable) → reference count. */
  private readonly refs = new Map<number, number>();
  /** Hashed blocks with no reference, least recently used first. */
  private readonly evictable = new Set<number>();
  private anonymous = 0;

  constructor(
    readonly blockSize: number,
    readonly capacity: number,
  ) {}

  /** Blocks held by running sequences. */
  get usedBlocks(): number {
    return this.refs.size - this.evictable.size + this.anonymous;
  }

  get cachedBlocks(): number {
    return this.refs.size;
  }

  /** Chained hashes of every full block of `tokens`. Deliberately not the router's hash (see ROUTING-NOTES). */
  blockHashes(tokens: readonly string[]): number[] {
    const hashes: number[] = [];
    let parent = 0x2545f491;
    for (let end = this.blockSize; end <= tokens.length; end += this.blockSize) {
      parent = hashBlock(parent, tokens, end - this.blockSize, end);
      hashes.push(parent);
    }
    return hashes;
  }

  /** How many leading blocks of `hashes` are cached. */
  matchedBlocks(hashes: readonly number[]): number {
    let matched = 0;
    while (matched < hashes.length && this.refs.has(hashes[matched]!)) matched++;
    return matched;
  }

  /**
   * References the sequence's prompt blocks (reusing the cached prefix, evicting for the rest) and
   * `anonymousBlocks` more; undefined, with nothing changed, when they do not fit.
   */
  allocate(hashes: readonly number[], anonymousBlocks: number): { matched: number } | undefined {
    const matched = this.matchedBlocks(hashes);
    let matchedEvictable = 0;
    for (let i = 0; i < matched; i++) if (this.evictable.has(hashes[i]!)) matchedEvictable++;
    const needed = hashes.length - matched + anonymousBlocks;
    const room = this.capacity - this.refs.size - this.anonymous + this.evictable.size - matchedEvictable;
    if (needed > room) return undefined;
    for (let i = 0; i < matched; i++) this.reference(hashes[i]!);
    for (let i = matched; i < hashes.length; i++) {
      // A later block can outlive an evicted earlier one; it is shared all the same.
      if (this.refs.has(hashes[i]!)) this.reference(hashes[i]!);
      else {
        this.makeRoom(1);
        this.refs.set(hashes[i]!, 1);
      }
    }
    this.makeRoom(anonymousBlocks);
    this.anonymous += anonymousBlocks;
    return { matched };
  }

  release(hashes: readonly number[], anonymousBlocks: number): void {
    this.anonymous -= anonymousBlocks;
    for (const hash of hashes) {
      const count = this.refs.get(hash)! - 1;
      this.refs.set(hash, count);
      if (count === 0) this.evictable.add(hash);
    }
  }

  /** Caches finished blocks (generated text) as evictable, as far as room allows without touching referenced ones. */
  insertEvictable(hashes: readonly number[]): void {
    for (const hash of hashes) {
      if (this.refs.has(hash)) {
        this.touch(hash);
        continue;
      }
      if (this.refs.size + this.anonymous >= this.capacity && this.evictable.size === 0) return;
      this.makeRoom(1);
      this.refs.set(hash, 0);
      this.evictable.add(hash);
    }
  }

  clear(): void {
    for (const hash of this.evictable) this.refs.delete(hash);
    this.evictable.clear();
  }

  private reference(hash: number): void {
    this.refs.set(hash, this.refs.get(hash)! + 1);
    this.evictable.delete(hash);
  }

  private touch(hash: number): void {
    if (this.evictable.delete(hash)) this.evictable.add(hash);
  }

  private makeRoom(blocks: number): void {
    let excess = this.refs.size + this.anonymous + blocks - this.capacity;
    for (const hash of this.evictable) {
      if (excess <= 0) break;
      this.evictable.delete(hash);
      this.refs.delete(hash);
      excess--;
    }
  }
}

/** Two 32-bit multiplicative lanes over the block's token text, mixed with the parent: 52 usable bits. */
function hashBlock(parent: number, tokens: readonly string[], from: number, to: number): number {
  let a = parent >>> 0;
  let b = Math.floor(parent / 0x100000000) ^ 0x9e3779b9;
  for (let i = from; i < to; i++) {
    const token = tokens[i]!;
    for (let j = 0; j < token.length; j++) {
      const c = token.charCodeAt(j);
      a = Math.imul(a ^ c, 0x85ebca6b);
      b = Math.imul(b ^ c, 0xc2b2ae35);
    }
    a = Math.imul(a ^ 0x1f, 0x27d4eb2f);
    b = Math.imul(b ^ (a >>> 13), 0x165667b1);
  }
  return (b >>> 12) * 0x100000000 + (a >>> 0);
}
