const MIN_CAPACITY = 256;

/**
 * The block hashes the router sent to one replica, bounded at `capacity` by generational eviction
 * (an approximate LRU at O(1) per block): blocks touched recently live in `young`; when `young`
 * holds half the capacity it becomes `old` and the previous `old` is dropped whole. A block
 * touched again moves back to `young`. Blocks of a request are touched together, so "block k
 * present ⇒ blocks before k present" holds, and the longest match is found by binary search.
 */
export class PrefixIndex {
  private young = new Set<number>();
  private old = new Set<number>();

  /** Current bound; starts at the configured maximum and adapts to what the replica really keeps. */
  capacity: number;

  constructor(private readonly maxCapacity: number) {
    this.capacity = maxCapacity;
  }

  /**
   * The replica no longer had a prefix this index said it had: it keeps less than we assumed.
   * Forget the older generation and remember a quarter less from now on.
   */
  evicted(): void {
    this.old = new Set();
    this.capacity = Math.max(Math.min(MIN_CAPACITY, this.maxCapacity), Math.floor(this.capacity * 0.75));
  }

  /** A predicted hit was confirmed: let the bound recover towards the configured maximum. */
  confirmed(): void {
    this.capacity = Math.min(this.maxCapacity, Math.ceil(this.capacity * 1.05));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  has(hash: number): boolean {
    return this.young.has(hash) || this.old.has(hash);
  }

  /** Number of leading `hashes` present. */
  longestMatch(hashes: readonly number[]): number {
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.has(hashes[mid - 1]!)) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** Touches every block, last to first: if a generation turns over midway, the prefix's head stays younger than its tail. */
  insert(hashes: readonly number[]): void {
    const half = Math.max(1, this.capacity >>> 1);
    for (let i = hashes.length - 1; i >= 0; i--) {
      const hash = hashes[i]!;
      if (this.young.has(hash)) continue;
      this.old.delete(hash);
      if (this.young.size >= half) {
        this.old = this.young;
        this.young = new Set();
      }
      this.young.add(hash);
    }
  }
}
