/** A fixed ring of recent samples for percentiles in /stats; O(1) to record, sorts only when read. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private count = 0;

  constructor(size = 1024) {
    this.samples = new Float64Array(size);
  }

  record(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    this.count++;
  }

  /** Samples recorded since creation: a mark for `percentileSince`. */
  get recorded(): number {
    return this.count;
  }

  percentile(p: number): number | null {
    return percentile(this.samples.slice(0, Math.min(this.count, this.samples.length)).sort(), p);
  }

  /** Percentile of the samples recorded since `mark` (an earlier `recorded`), of the newest ring-full when there were more. */
  percentileSince(mark: number, p: number): number | null {
    const size = this.samples.length;
    const count = Math.min(this.count - mark, size);
    if (count <= 0) return null;
    const newest = new Float64Array(count);
    for (let i = 0; i < count; i++) newest[i] = this.samples[(this.next - count + i + size) % size]!;
    return percentile(newest.sort(), p);
  }
}

/** Nearest-rank percentile of ascending `sorted` (one definition for /stats and `logs analyze`, so they agree). */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
