/** A fixed ring of recent samples for percentiles in /stats; O(1) to record, sorts only when read. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size = 1024) {
    this.samples = new Float64Array(size);
  }

  record(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
  }

  percentile(p: number): number | null {
    return percentile(this.samples.slice(0, this.filled).sort(), p);
  }
}

/** Nearest-rank percentile of ascending `sorted` (one definition for /stats and `logs analyze`, so they agree). */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
