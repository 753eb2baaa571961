/**
 * The lexer under the command parser: reads the tokens of RFC 9051 §9 (atoms, quoted strings, literals, numbers,
 * sequence sets, dates) from one frame. A failure throws `SyntaxFailure` with a user-readable reason; the parser
 * turns it into a BAD result (parseCommand itself never throws).
 */
import { isTagChar } from './framer.ts';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import type { SeqNumber, SeqRange, SequenceSet } from './types.ts';

export class SyntaxFailure extends Error {}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_LOSSY = new TextDecoder('utf-8');

/** RFC 9051 §9 ATOM-CHAR: any CHAR except atom-specials `( ) { SP CTL % * " \ ]`. */
export function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== DQUOTE &&
    c !== BACKSLASH && c !== 0x5d;
}
/** RFC 9051 §9 ASTRING-CHAR = ATOM-CHAR / resp-specials (`]`). */
export function isAstringChar(c: number): boolean {
  return isAtomChar(c) || c === 0x5d;
}
/** RFC 9051 §9 list-char = ATOM-CHAR / list-wildcards / resp-specials. */
function isListChar(c: number): boolean {
  return isAstringChar(c) || c === 0x25 || c === 0x2a;
}
function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MAX_U32 = 4294967295;

export class Reader {
  pos = 0;
  /** Decode strings lossily (SEARCH with a non-UTF-8 CHARSET: the session answers BADCHARSET anyway). */
  lossy = false;
  /** What each open parenthesis belongs to (for error texts); its length is the nesting depth. */
  private readonly opened: string[] = [];

  constructor(
    readonly buf: Uint8Array,
    readonly limits: Pick<Limits, 'maxNestingDepth' | 'maxSequenceRanges'> = DEFAULT_LIMITS,
  ) {}

  fail(text: string): never {
    throw new SyntaxFailure(text);
  }

  peek(offset = 0): number | undefined {
    return this.buf[this.pos + offset];
  }

  /** At the line end (CRLF or bare LF) or the end of the frame. */
  atEnd(): boolean {
    const c = this.peek();
    return c === undefined || c === LF || (c === CR && this.peek(1) === LF);
  }

  /** Require the command to end here: only CRLF (or LF) may follow. */
  end(): void {
    if (this.peek() === CR) this.pos++;
    if (this.peek() === LF) this.pos++;
    if (this.pos !== this.buf.length) {
      const rest = this.preview();
      this.fail(rest.startsWith(' ') ? `Unexpected extra arguments: ${rest.trim()}` : `Unexpected characters: ${rest}`);
    }
  }

  /** A short, printable excerpt of what follows (for error texts). */
  preview(): string {
    const line = this.buf.subarray(this.pos, Math.min(this.buf.length, this.pos + 40));
    let s = '';
    for (const c of line) {
      if (c === CR || c === LF) break;
      s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
    }
    return s;
  }

  /** Consume `c` if next; report whether it was. */
  eat(c: number): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }

  expect(c: number, what: string): void {
    if (!this.eat(c)) this.fail(this.atEnd() ? `Missing ${what}` : `Expected ${what} at: ${this.preview()}`);
  }

  /** One SP before the named argument. */
  sp(what: string): void {
    if (this.eat(SP)) {
      if (this.peek() === SP) this.fail(`Extra space before ${what}`);
      return;
    }
    this.fail(this.atEnd() ? `Missing ${what}` : `Expected a space before ${what} at: ${this.preview()}`);
  }

  /** Try to consume a case-insensitive ASCII keyword followed by a non-atom char. */
  eatWord(word: string): boolean {
    for (let i = 0; i < word.length; i++) {
      const c = this.peek(i);
      if (c === undefined || (c | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
    }
    const after = this.peek(word.length);
    if (after !== undefined && isAtomChar(after) && after !== 0x5b) return false;
    this.pos += word.length;
    return true;
  }

  /** Enter a parenthesized list (limits nesting, `Limits.maxNestingDepth`). */
  open(what: string): void {
    this.expect(0x28, `"(" opening ${what}`);
    this.opened.push(what);
    if (this.opened.length > this.limits.maxNestingDepth) this.fail('Too deeply nested parentheses');
  }

  /** Inside a list: true while more elements follow; a missing `)` at the line end is reported as such. */
  more(): boolean {
    if (this.atEnd()) this.fail(`Missing ")" closing ${this.opened[this.opened.length - 1] ?? 'list'}`);
    return this.peek() !== 0x29;
  }

  close(what: string): void {
    this.expect(0x29, `")" closing ${what}`);
    this.opened.pop();
  }

  /** RFC 9051 §9 `atom`, upper-cased when `upper`. */
  atom(what: string, upper = false): string {
    const start = this.pos;
    while (this.pos < this.buf.length && isAtomChar(this.buf[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(this.atEnd() ? `Missing ${what}` : `Invalid ${what} at: ${this.preview()}`);
    const s = ascii(this.buf.subarray(start, this.pos));
    return upper ? s.toUpperCase() : s;
  }

  /** Characters satisfying `ok` (possibly none). */
  run(ok: (c: number) => boolean): string {
    const start = this.pos;
    while (this.pos < this.buf.length && ok(this.buf[this.pos]!)) this.pos++;
    return ascii(this.buf.subarray(start, this.pos));
  }

  tag(): string {
    const start = this.pos;
    while (this.pos < this.buf.length && isTagChar(this.buf[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail('Missing or invalid tag');
    return ascii(this.buf.subarray(start, this.pos));
  }

  /** RFC 9051 §9 `string` = quoted / literal, decoded as UTF-8. */
  string(what: string): string {
    const c = this.peek();
    if (c === DQUOTE) return this.quoted(what);
    if (c === 0x7b || c === 0x7e) return this.decode(this.literal(what).data, what);
    return this.fail(this.atEnd() ? `Missing ${what}` : `Expected a quoted string or literal for ${what}`);
  }

  /** RFC 9051 §9 `astring` = 1*ASTRING-CHAR / string. */
  astring(what: string): string {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.string(what);
    const start = this.pos;
    while (this.pos < this.buf.length && isAstringChar(this.buf[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(this.atEnd() ? `Missing ${what}` : `Invalid ${what} at: ${this.preview()}`);
    return ascii(this.buf.subarray(start, this.pos));
  }

  /** RFC 9051 §9 `nstring` = string / NIL. */
  nstring(what: string): string | null {
    if (this.eatWord('NIL')) return null;
    return this.string(what);
  }

  /** RFC 9051 §9 `mailbox` = "INBOX" / astring; INBOX in any case is returned as `INBOX` (§5.1). */
  mailbox(what = 'mailbox name'): string {
    const name = this.astring(what);
    return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
  }

  /** RFC 9051 §9 `list-mailbox` = 1*list-char / string. */
  listMailbox(what = 'mailbox pattern'): string {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.string(what);
    const s = this.run(isListChar);
    if (s === '') this.fail(this.atEnd() ? `Missing ${what}` : `Invalid ${what} at: ${this.preview()}`);
    return s;
  }

  private quoted(what: string): string {
    this.pos++; // DQUOTE
    const bytes: number[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === CR || c === LF) this.fail(`Unterminated quoted string in ${what}`);
      this.pos++;
      if (c === DQUOTE) break;
      if (c === BACKSLASH) {
        const n = this.peek();
        if (n !== DQUOTE && n !== BACKSLASH) this.fail(`Invalid escape in quoted string (only \\" and \\\\ are allowed)`);
        this.pos++;
        bytes.push(n);
        continue;
      }
      if (c === 0) this.fail(`NUL in quoted string`);
      bytes.push(c);
    }
    return this.decode(Uint8Array.from(bytes), what);
  }

  decode(data: Uint8Array, what: string): string {
    if (this.lossy) return UTF8_LOSSY.decode(data);
    try {
      return UTF8.decode(data);
    } catch {
      return this.fail(`Invalid UTF-8 in ${what}`);
    }
  }

  /** RFC 9051 §9 `literal` / RFC 3516 `literal8` / RFC 7888 non-synchronizing literal: `{n}` CRLF octets. */
  literal(what: string): { data: Uint8Array; binary: boolean } {
    const binary = this.eat(0x7e);
    this.expect(0x7b, `literal for ${what}`);
    const digits = this.run((c) => c >= 0x30 && c <= 0x39);
    if (digits === '' || digits.length > 15) this.fail(`Invalid literal size in ${what}`);
    if (this.peek() === 0x2b || this.peek() === 0x2d) this.pos++;
    this.expect(0x7d, `"}" ending literal size`);
    this.eat(CR);
    this.expect(LF, 'line end after literal size');
    const n = Number(digits);
    if (this.pos + n > this.buf.length) this.fail(`Literal data shorter than announced in ${what}`);
    const data = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    if (!binary && data.includes(0)) this.fail(`NUL in literal (use literal8 ~{n} for binary data)`);
    return { data, binary };
  }

  /** RFC 9051 §9 `number` (32-bit unsigned) or, with `max`, up to it (number64, mod-sequence-value). */
  number(what: string, max = MAX_U32): number {
    const s = this.run((c) => c >= 0x30 && c <= 0x39);
    if (s === '') this.fail(this.atEnd() ? `Missing ${what}` : `Expected a number for ${what} at: ${this.preview()}`);
    const n = s.length > 16 ? Number.MAX_SAFE_INTEGER + 1 : Number(s);
    if (n > max) {
      // Mod-sequences (RFC 7162 §3.1.1, up to 2^63-1) are clamped; anything else over its range is an error.
      if (max === Number.MAX_SAFE_INTEGER && s.length <= 19 && BigInt(s) <= 9223372036854775807n) return max;
      this.fail(`Number too large for ${what}`);
    }
    return n;
  }

  nzNumber(what: string, max = MAX_U32): number {
    const n = this.number(what, max);
    if (n === 0) this.fail(`${what} must not be zero`);
    return n;
  }

  /** RFC 7162 §3.1.1 `mod-sequence-value` (clamped, see types.ts). */
  modseq(what = 'mod-sequence'): number {
    return this.number(what, Number.MAX_SAFE_INTEGER);
  }

  /** RFC 9051 §9 `sequence-set` or `$` (RFC 5182). */
  sequenceSet(what = 'sequence set'): SequenceSet {
    if (this.eat(0x24)) return '$';
    const ranges: SeqRange[] = [];
    do {
      if (ranges.length >= this.limits.maxSequenceRanges) this.fail(`Too many ranges in ${what}`);
      const from = this.seqNumber(what);
      const to = this.eat(0x3a) ? this.seqNumber(what) : from;
      ranges.push({ from, to });
    } while (this.eat(0x2c));
    return ranges;
  }

  private seqNumber(what: string): SeqNumber {
    if (this.eat(0x2a)) return '*';
    if (!isDigit(this.peek())) this.fail(this.atEnd() ? `Missing ${what}` : `Invalid ${what} at: ${this.preview()}`);
    return this.nzNumber(`number in ${what}`);
  }

  /** Next char starts a sequence set (digit, `*`, `$`). */
  atSequenceSet(): boolean {
    const c = this.peek();
    return isDigit(c) || c === 0x2a || c === 0x24;
  }

  /** RFC 9051 §9 `date` = date-text / DQUOTE date-text DQUOTE; returns `YYYY-MM-DD`. */
  date(what = 'date'): string {
    const quoted = this.eat(DQUOTE);
    const day = this.run((c) => c >= 0x30 && c <= 0x39);
    const date = this.dateRest(day, () => this.fail(`Invalid ${what} (expected e.g. 1-Feb-1994)`));
    if (quoted) this.expect(DQUOTE, `closing quote of ${what}`);
    return `${String(date.year).padStart(4, '0')}-${pad2(date.month)}-${pad2(date.day)}`;
  }

  private dateRest(dayText: string, bad: () => never): { year: number; month: number; day: number } {
    if (dayText.length < 1 || dayText.length > 2) bad();
    if (!this.eat(0x2d)) bad();
    const mon = MONTHS.indexOf(this.run((c) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a).toUpperCase());
    if (mon < 0 || !this.eat(0x2d)) bad();
    const yearText = this.run((c) => c >= 0x30 && c <= 0x39);
    if (yearText.length !== 4) bad();
    const year = Number(yearText);
    const day = Number(dayText);
    const month = mon + 1;
    if (day < 1 || day > daysInMonth(year, month)) bad();
    return { year, month, day };
  }

  /** RFC 9051 §9 `date-time` (APPEND): `"dd-Mon-yyyy hh:mm:ss +zzzz"` as an instant. */
  dateTime(what = 'date-time'): Date {
    const bad = (): never => this.fail(`Invalid ${what} (expected e.g. "17-Jul-1996 02:44:25 -0700")`);
    this.expect(DQUOTE, `quoted ${what}`);
    this.eat(SP); // date-day-fixed: SP DIGIT
    const d = this.dateRest(this.run((c) => c >= 0x30 && c <= 0x39), bad);
    if (!this.eat(SP)) bad();
    const time = this.run((c) => (c >= 0x30 && c <= 0x39) || c === 0x3a);
    const t = /^(\d\d):(\d\d):(\d\d)$/.exec(time);
    if (!t || !this.eat(SP)) bad();
    const sign = this.peek();
    if (sign !== 0x2b && sign !== 0x2d) bad();
    this.pos++;
    const zone = this.run((c) => c >= 0x30 && c <= 0x39);
    if (zone.length !== 4) bad();
    this.expect(DQUOTE, `closing quote of ${what}`);
    const [hh, mm, ss] = [Number(t![1]), Number(t![2]), Number(t![3])];
    const zh = Number(zone.slice(0, 2));
    const zm = Number(zone.slice(2));
    if (hh > 23 || mm > 59 || ss > 60 || zm > 59) bad();
    const offset = (sign === 0x2b ? 1 : -1) * (zh * 60 + zm);
    return new Date(Date.UTC(d.year, d.month - 1, d.day, hh, mm, ss) - offset * 60_000);
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const ASCII = new TextDecoder();
function ascii(b: Uint8Array): string {
  return ASCII.decode(b);
}
