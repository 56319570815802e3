/**
 * Collects rows in memory and asks for them to be written in batches: every `intervalMs`, or on
 * the next loop turn once `batchRows` are waiting. Appending costs one array push.
 */
export class BatchBuffer<T> {
  private rows: T[] = [];
  private flushQueued = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly batchRows: number,
    intervalMs: number,
    private readonly flush: () => void,
  ) {
    this.timer = setInterval(flush, intervalMs);
    this.timer.unref();
  }

  push(row: T): void {
    this.rows.push(row);
    if (this.rows.length >= this.batchRows && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
  }

  /** Everything waiting, handed over once. */
  take(): T[] {
    this.flushQueued = false;
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
