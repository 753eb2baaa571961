/**
 * Where the response encoder (encode.ts) writes octets: a growable chunk with a write position, so a response is
 * built in place instead of as a string, encoded, and concatenated again (RFC 9051 §4.3 literals are copied in with
 * `set`). A session's sink collects a whole chunk of responses and hands it to the transport in one write.
 *
 * Handed-out memory is never written again: `take()` gives up the current buffer and the next write allocates a
 * new one (lazily, so an idle session holds none). With `largeLiteral`, literal data at least that long is handed
 * out as the caller's own array, not copied (a whole-message BODY[] goes to the transport as it is).
 */

const UTF8 = new TextEncoder();

/** Strings longer than this go through `TextEncoder.encodeInto` at once; shorter ones by a char code loop. */
const LOOP_MAX = 256;

export interface SinkOptions {
  /** The size beyond which a new buffer is started instead of growing the current one (default: unbounded). */
  chunk?: number;
  /** Literal data of at least this many octets is referenced, not copied (default: always copied). */
  largeLiteral?: number;
  /** The first buffer's size (it then doubles up to `chunk`). */
  initial?: number;
}

export class OutputSink {
  /** Finished pieces, in order, not yet taken. */
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private buf: Uint8Array | null = null;
  /** Where the next octet goes in `buf`; `start` is where its part not yet moved to `parts` begins. */
  private pos = 0;
  private start = 0;
  private nextSize: number;
  private readonly chunk: number;
  private readonly largeLiteral: number;

  constructor(opts: SinkOptions = {}) {
    this.chunk = opts.chunk ?? Infinity;
    this.largeLiteral = opts.largeLiteral ?? Infinity;
    this.nextSize = opts.initial ?? 256;
  }

  /** Octets written and not yet taken. */
  get length(): number {
    return this.partBytes + this.pos - this.start;
  }

  /** Text as UTF-8 (in practice ASCII: the encoder only lets UTF-8 through in quoted strings under UTF8=ACCEPT). */
  text(s: string): void {
    const n = s.length;
    if (n > LOOP_MAX) return this.encodeInto(s);
    let buf = this.buf;
    if (buf === null || this.pos + n > buf.length) buf = this.room(n);
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = p;
        return this.encodeInto(s.slice(i));
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** A non-negative integer in decimal (RFC 9051 §9 `number`, `nz-number`, `mod-sequence-value`). */
  int(n: number): void {
    if (!(n >= 0 && Number.isSafeInteger(n))) return this.text(String(n));
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    const buf = this.room(digits);
    let p = this.pos + digits;
    this.pos = p;
    let x = n;
    do {
      buf[--p] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
  }

  /** One ASCII octet. */
  byte(c: number): void {
    const buf = this.buf;
    if (buf !== null && this.pos < buf.length) buf[this.pos++] = c;
    else this.room(1)[this.pos++] = c;
  }

  /** Octets, copied; or, when at least `largeLiteral` long, referenced as they are (the caller must not change them). */
  bytes(b: Uint8Array): void {
    if (b.length >= this.largeLiteral) {
      this.cut();
      this.parts.push(b);
      this.partBytes += b.length;
      return;
    }
    let buf = this.buf;
    if (buf === null || this.pos + b.length > buf.length) buf = this.room(b.length);
    buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Everything written so far, in order (a caller writes each piece); the sink then holds no buffer. */
  take(): Uint8Array[] {
    this.cut();
    const parts = this.parts;
    const taken = this.partBytes;
    this.parts = [];
    this.partBytes = 0;
    this.nextSize = Math.min(this.chunk, ceilPow2(taken)); // a command that wrote a lot is likely to again
    this.buf = null;
    this.pos = this.start = 0;
    return parts;
  }

  /** Forgets what was written after `length` was `to` (a response whose encoding failed half-way). */
  rewind(to: number): void {
    let excess = this.length - to;
    const inBuffer = this.pos - this.start;
    if (excess <= inBuffer) {
      this.pos -= Math.max(0, excess);
      return;
    }
    excess -= inBuffer;
    this.pos = this.start; // the dropped parts' octets in `buf` are not written again: they lie before `start`
    while (excess > 0) {
      const last = this.parts.pop()!;
      this.partBytes -= last.length;
      if (last.length > excess) {
        this.parts.push(last.subarray(0, last.length - excess));
        this.partBytes += last.length - excess;
      }
      excess -= Math.min(excess, last.length);
    }
  }

  /** Everything written so far as one array (copied together only when there are several pieces). */
  takeOne(): Uint8Array {
    const parts = this.take();
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Moves the current buffer's unfinished part to `parts`; the buffer's rest stays usable. */
  private cut(): void {
    if (this.buf && this.pos > this.start) {
      this.parts.push(this.buf.subarray(this.start, this.pos));
      this.partBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  private encodeInto(s: string): void {
    const buf = this.room(s.length * 3); // UTF-8 needs at most 3 octets per UTF-16 code unit
    this.pos += UTF8.encodeInto(s, buf.subarray(this.pos)).written;
  }

  /** The current buffer, with at least `n` octets free at `pos`. */
  private room(n: number): Uint8Array {
    const buf = this.buf;
    if (buf && this.pos + n <= buf.length) return buf;
    if (!buf) {
      this.buf = new Uint8Array(Math.max(this.nextSize, n));
      this.pos = this.start = 0;
    } else if (buf.length < this.chunk) {
      // Grow: the unfinished part moves to a buffer twice as large (or as large as needed).
      const used = this.pos - this.start;
      const grown = new Uint8Array(Math.max(Math.min(this.chunk, buf.length * 2), used + n));
      grown.set(buf.subarray(this.start, this.pos));
      this.buf = grown;
      this.pos = used;
      this.start = 0;
    } else {
      // A full chunk: finish it and start a new one.
      this.cut();
      this.buf = new Uint8Array(Math.max(buf.length, n));
      this.pos = this.start = 0;
    }
    return this.buf;
  }
}

function ceilPow2(n: number): number {
  let p = 256;
  while (p < n) p *= 2;
  return p;
}
