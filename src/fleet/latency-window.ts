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
    if (this.filled === 0) return null;
    const sorted = this.samples.slice(0, this.filled).sort();
    return sorted[Math.min(this.filled - 1, Math.floor((p / 100) * this.filled))]!;
  }
}
