import { isSecret, KeyScrubber } from './key-echo.js';
import { SseEventTooLargeError } from './sse-parser.js';

const LF = 0x0a;
const CR = 0x0d;
const NOTHING = Buffer.alloc(0);

/**
 * A stream relayed as its target sent it, less any echo of the key the router sent it (see
 * withoutKey), for a target that gets a key; with none sent (a self-hosted engine) there is none to
 * echo, and the stream is relayed untouched. It is scrubbed whole lines at a time: the key travels
 * in a header, which holds no line break, so neither the key nor a masked form of it spans two
 * lines, wherever the network cut the stream. A chunk that ends a line (as nearly every chunk does,
 * an SSE event ending in a blank line) goes on as it came, the same bytes, unless it holds one end
 * of the key (see KeyScrubber); only the start of a line that a chunk cut is held, in the pieces it
 * came in, until the chunk that ends it: it is of no use to the client before (SSE clients read
 * whole events), and half a key must not go ahead of the rest. Only each chunk is searched for its
 * last line end, so a long line in many small chunks costs its length, not its length times the chunk count.
 */
export class StreamWithoutKey {
  private readonly scrubber: KeyScrubber;
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    key: string,
    private readonly maxLineBytes: number,
  ) {
    this.scrubber = new KeyScrubber(key);
  }

  /** Throws SseEventTooLargeError once a line held grows past maxLineBytes: the relay ends the stream with an error. */
  push(chunk: Buffer): Buffer {
    const linesEnd = afterLastLineEnd(chunk);
    if (linesEnd === 0) {
      this.hold(chunk);
      return NOTHING;
    }
    let lines = linesEnd === chunk.length ? chunk : chunk.subarray(0, linesEnd);
    if (this.heldBytes > 0) {
      this.held.push(lines);
      lines = Buffer.concat(this.held);
    }
    this.held = [];
    this.heldBytes = 0;
    if (linesEnd < chunk.length) this.hold(chunk.subarray(linesEnd));
    return this.scrubber.scrub(lines);
  }

  /** The last line, when the stream ended without a line end. */
  end(): Buffer {
    const rest = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    return this.scrubber.scrub(rest);
  }

  private hold(bytes: Buffer): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes > this.maxLineBytes) throw new SseEventTooLargeError(this.maxLineBytes);
  }
}

/** How a keyed target's stream is relayed as it came: without its key (none sent, or a placeholder, see isSecret: untouched, zero-copy). */
export const streamWithoutKey = (key: string | undefined, maxLineBytes: number): StreamWithoutKey | undefined =>
  isSecret(key) ? new StreamWithoutKey(key, maxLineBytes) : undefined;

/** Where the whole lines at the start of `chunk` end: after its last LF or CR; 0 when it has none. */
function afterLastLineEnd(chunk: Buffer): number {
  const last = chunk[chunk.length - 1];
  if (last === LF || last === CR) return chunk.length;
  return Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR)) + 1;
}
