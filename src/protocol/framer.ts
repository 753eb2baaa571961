/**
 * The framer: cuts the client's byte stream into complete commands (sans-I/O).
 *
 * A command is one or more lines joined by literals (RFC 9051 §4.3 `{n}`, RFC 7888 `{n+}` / `{n-}`, RFC 3516
 * literal8 `~{n}`). The framer sees only line ends and literal markers; it never interprets a command. It
 * enforces the size limits of limits.ts with bounded memory: at most one command (<= maxCommandSize) plus one
 * line (<= maxLineLength) is ever held; refused literal data is counted and dropped, never stored.
 */
import { DEFAULT_LIMITS, type Limits } from './limits.ts';

export type FramerEvent =
  /** One complete command (or continuation line) exactly as received: literals inline, final line end included. */
  | { type: 'frame'; bytes: Uint8Array }
  /** A synchronizing literal was accepted: the caller sends `+ ...` (RFC 9051 §7.5) before the client continues. */
  | { type: 'continue' }
  /**
   * The current command was refused without being run (literal too big, too many literals): answer
   * `tag NO [code] text` (or `* BAD` when the tag is null). The rest of that command has been or will be dropped.
   */
  | { type: 'reject'; tag: string | null; text: string; code?: string }
  /** Framing cannot go on (line too long, absurd literal): send `* BYE text` and close. */
  | { type: 'fatal'; text: string };

/** A literal marker at the end of a line (RFC 9051 §9 `literal`, RFC 3516 `literal8`, RFC 7888 `literal-nonsync`). */
interface LiteralMarker {
  size: number;
  nonSync: boolean;
}

const ASCII = new TextDecoder();
const LF = 0x0a;
const CR = 0x0d;

export class Framer {
  private mode: 'line' | 'literal' | 'dead' = 'line';
  /** Kept pieces of the current command (empty while discarding). */
  private parts: Uint8Array[] = [];
  private partsSize = 0;
  /** Pieces of the current, unfinished line. */
  private line: Uint8Array[] = [];
  private lineSize = 0;
  /** Non-literal octets of the current command so far (limit: maxLineLength). */
  private commandLineSize = 0;
  /** All octets of the current command so far, literal data included (limit: maxCommandSize). */
  private commandSize = 0;
  private literalCount = 0;
  private literalLeft = 0;
  private firstLine = true;
  private tag: string | null = null;
  /** Set when the current command was refused: its bytes are dropped and it ends with a reject event. */
  private refusal: { text: string; code: string } | null = null;

  constructor(private readonly limits: Limits = DEFAULT_LIMITS) {}

  /** Consume received bytes; returns the events they complete, in order. Never throws. */
  push(chunk: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    let i = 0;
    while (i < chunk.length && this.mode !== 'dead') {
      if (this.mode === 'literal') {
        const n = Math.min(this.literalLeft, chunk.length - i);
        if (this.refusal === null) this.keep(chunk.slice(i, i + n));
        this.literalLeft -= n;
        i += n;
        if (this.literalLeft === 0) this.mode = 'line';
        continue;
      }
      const lf = chunk.indexOf(LF, i);
      const end = lf < 0 ? chunk.length : lf + 1;
      const size = end - i;
      if (this.commandLineSize + this.lineSize + size > this.limits.maxLineLength) {
        this.die(out, 'Command line too long');
        break;
      }
      this.line.push(chunk.slice(i, end));
      this.lineSize += size;
      i = end;
      if (lf >= 0) this.endLine(out);
    }
    return out;
  }

  /** Drop everything buffered (after STARTTLS, RFC 9051 §6.2.1: plaintext sent before the TLS handshake). */
  reset(): void {
    this.resetCommand();
    this.mode = this.mode === 'dead' ? 'dead' : 'line';
  }

  private endLine(out: FramerEvent[]): void {
    const bytes = concat(this.line, this.lineSize);
    this.line = [];
    this.lineSize = 0;
    this.commandLineSize += bytes.length;
    this.commandSize += bytes.length;
    if (this.firstLine) {
      this.tag = readTag(bytes);
      this.firstLine = false;
    }
    const literal = literalMarker(bytes);
    if (literal === null) return this.endCommand(out, bytes);
    this.literalCount++;
    if (literal.nonSync) {
      if (literal.size > this.limits.maxDiscardLiteral) return this.die(out, 'Literal too large');
      if (this.refusal === null) {
        const refusal = this.check(literal.size, Math.min(this.limits.maxNonSyncLiteral, this.limits.maxLiteralSize));
        if (refusal) this.refuse(refusal);
        else this.keep(bytes);
      }
    } else {
      // A synchronizing literal inside a refused command: the client waits for `+`, which never comes.
      if (this.refusal !== null) return this.endCommand(out, bytes);
      const refusal = this.check(literal.size, this.limits.maxLiteralSize);
      if (refusal) {
        this.refuse(refusal);
        return this.endCommand(out, bytes);
      }
      this.keep(bytes);
      out.push({ type: 'continue' });
    }
    this.commandSize += literal.size;
    this.literalLeft = literal.size;
    this.mode = literal.size > 0 ? 'literal' : 'line';
  }

  /** Why a literal of this size cannot be taken, or null. */
  private check(size: number, max: number): { text: string; code: string } | null {
    if (size > max) return { text: `Literal too large (limit ${max} octets)`, code: 'TOOBIG' };
    if (this.commandSize + size > this.limits.maxCommandSize) {
      return { text: `Command too large (limit ${this.limits.maxCommandSize} octets)`, code: 'TOOBIG' };
    }
    if (this.literalCount > this.limits.maxLiteralsPerCommand) {
      return { text: `Too many literals in one command (limit ${this.limits.maxLiteralsPerCommand})`, code: 'LIMIT' };
    }
    return null;
  }

  private refuse(refusal: { text: string; code: string }): void {
    this.refusal = refusal;
    this.parts = [];
    this.partsSize = 0;
  }

  private endCommand(out: FramerEvent[], lastLine: Uint8Array): void {
    if (this.refusal !== null) {
      out.push({ type: 'reject', tag: this.tag, text: this.refusal.text, code: this.refusal.code });
    } else {
      this.keep(lastLine);
      out.push({ type: 'frame', bytes: concat(this.parts, this.partsSize) });
    }
    this.resetCommand();
  }

  private keep(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.partsSize += bytes.length;
  }

  private die(out: FramerEvent[], text: string): void {
    out.push({ type: 'fatal', text });
    this.resetCommand();
    this.mode = 'dead';
  }

  private resetCommand(): void {
    this.parts = [];
    this.partsSize = 0;
    this.line = [];
    this.lineSize = 0;
    this.commandLineSize = 0;
    this.commandSize = 0;
    this.literalCount = 0;
    this.literalLeft = 0;
    this.firstLine = true;
    this.tag = null;
    this.refusal = null;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Is this octet allowed in a tag (RFC 9051 §9 `tag`: ASTRING-CHAR except `+`)? */
export function isTagChar(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  // atom-specials that are not resp-specials: ( ) { % * " \ ; and "+" which tags exclude.
  return c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x2b;
}

/** The tag at the start of a command line, or null when it does not start with a valid tag and a space. */
function readTag(line: Uint8Array): string | null {
  let i = 0;
  while (i < line.length && isTagChar(line[i]!)) i++;
  if (i === 0 || line[i] !== 0x20) return null;
  return ASCII.decode(line.subarray(0, i));
}

/** Parse `{123}`, `{123+}`, `{123-}` or `~{123}` right before the line end, or null. */
function literalMarker(line: Uint8Array): LiteralMarker | null {
  let end = line.length;
  if (end > 0 && line[end - 1] === LF) end--;
  if (end > 0 && line[end - 1] === CR) end--;
  if (end < 3 || line[end - 1] !== 0x7d) return null; // '}'
  let i = end - 2;
  let nonSync = false;
  if (line[i] === 0x2b || line[i] === 0x2d) {
    nonSync = true;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= 0 && line[i]! >= 0x30 && line[i]! <= 0x39) i--;
  if (i < 0 || line[i] !== 0x7b || i + 1 === digitsEnd) return null; // '{'
  const digits = digitsEnd - (i + 1);
  // More than 15 digits cannot be a sane size; treat it as the largest number so limits apply.
  const size = digits > 15 ? Number.MAX_SAFE_INTEGER : Number(ASCII.decode(line.subarray(i + 1, digitsEnd)));
  return { size, nonSync };
}
