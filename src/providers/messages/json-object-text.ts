const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** JSON's whitespace: space, tab, line feed, carriage return. */
const isJsonWhitespace = (code: number): boolean => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/**
 * A JSON text arriving in pieces (a streamed tool call's arguments), watched for the point where it
 * is a whole JSON object. Each piece is read once as it comes, its nesting and strings followed,
 * and the text is parsed only where its outermost brace closes: nothing but whitespace may follow
 * a whole object, so that point comes at most once. A long object in many pieces costs its length,
 * not its length times the number of pieces ending in a brace.
 */
export class JsonObjectText {
  text = '';
  /** Whether the text so far is a whole JSON object. */
  whole = false;
  /** Set once the text can never be a whole object: it starts with something else, or goes on after one. */
  private never = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Whether the outermost brace has come. */
  private opened = false;

  append(piece: string): void {
    this.text += piece;
    for (let at = 0; at < piece.length && !this.never; at++) this.read(piece.charCodeAt(at));
  }

  private read(code: number): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (code === BACKSLASH) this.escaped = true;
      else if (code === QUOTE) this.inString = false;
      return;
    }
    if (isJsonWhitespace(code)) return;
    if (this.depth === 0) {
      // Outside the object: its opening brace must come first, and nothing may follow its closing one.
      if (this.opened || code !== OPEN_BRACE) {
        this.whole = false;
        this.never = true;
        return;
      }
      this.opened = true;
      this.depth = 1;
      return;
    }
    if (code === QUOTE) this.inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth += 1;
    else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --this.depth === 0) this.closed();
  }

  /** The outermost brace closed: whole if what it encloses is valid JSON. */
  private closed(): void {
    try {
      JSON.parse(this.text);
      this.whole = true;
    } catch {
      this.never = true;
    }
  }
}
