/**
 * The block hashes the router sent to one replica, bounded at `capacity` with least-recently-used
 * eviction (a Set keeps insertion order; touching re-inserts). Blocks of a request are touched
 * last-to-first, so a prefix's first blocks are always the most recent: eviction takes a prefix's
 * tail before its head, which keeps "block k present ⇒ blocks before k present" true and lets the
 * longest match be found by binary search.
 */
export class PrefixIndex {
  private readonly blocks = new Set<number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.blocks.size;
  }

  /** Number of leading `hashes` present. */
  longestMatch(hashes: readonly number[]): number {
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.blocks.has(hashes[mid - 1]!)) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  insert(hashes: readonly number[]): void {
    for (let i = hashes.length - 1; i >= 0; i--) {
      const hash = hashes[i]!;
      this.blocks.delete(hash);
      this.blocks.add(hash);
    }
    if (this.blocks.size <= this.capacity) return;
    let excess = this.blocks.size - this.capacity;
    for (const hash of this.blocks) {
      if (excess-- <= 0) break;
      this.blocks.delete(hash);
    }
  }
}
