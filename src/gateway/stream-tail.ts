/**
 * The last `limit` bytes (or a little more) of a stream, kept as references to the chunks that
 * passed and joined only when read: copying the tail on every chunk cost up to `limit` bytes of
 * allocation and copying per token of a long stream.
 */
export class StreamTail {
  private readonly chunks: Buffer[] = [];
  /** Index of the oldest chunk still kept. */
  private first = 0;
  private bytes = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    // A chunk may be a small view into a large network read (many events at once): keeping the view
    // would keep the whole read. Views into Buffer's 8 KB pool are kept: it only holds recent small chunks.
    const smallViewOfLargeRead = chunk.buffer.byteLength > Math.max(2 * chunk.length, Buffer.poolSize);
    this.chunks.push(smallViewOfLargeRead ? Buffer.from(chunk) : chunk);
    this.bytes += chunk.length;
    while (this.bytes - this.chunks[this.first]!.length >= this.limit) {
      this.bytes -= this.chunks[this.first++]!.length;
      this.dropped = true;
    }
    // Forgotten chunks are dropped in batches, not one array shift per chunk.
    if (this.first >= 64) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }

  /** Whether the kept bytes are the whole stream. */
  get holdsStart(): boolean {
    return !this.dropped;
  }

  /** The kept bytes, at least the last `limit` of the stream (all of it when shorter). */
  read(): Buffer {
    const kept = this.chunks.slice(this.first);
    return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  }
}
