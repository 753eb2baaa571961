/**
 * Parsing of MIME structured field values: `Content-Type` (RFC 2045 §5.1), `Content-Disposition` (RFC 2183 §2)
 * and their parameters, including RFC 2231 continuations (`name*0=`, `name*1=`), charset/language
 * (`name*=utf-8'en'%E2%82%AC`) and RFC 822 comments. Lenient: never throws, skips what it cannot read.
 */

/** A parameter exactly as written, after quoted-string unquoting (what BODYSTRUCTURE servers often echo). */
export type RawParam = [name: string, value: string];

/** A parsed `type/subtype; params` or `disposition; params` value. */
export interface ParsedValue {
  /** Lower-cased leading token(s): `text/plain` for Content-Type, `attachment` for Content-Disposition. */
  value: string;
  /** Decoded parameters keyed by lower-cased name, RFC 2231 segments joined and charset-decoded, in first-seen order. */
  params: Map<string, string>;
  /** The parameters as written, in order, names lower-cased, values unquoted but not RFC 2231-decoded. */
  rawParams: RawParam[];
}

/** RFC 2045 §5.1 tspecials plus white space and CTLs end a token. */
const TSPECIALS = new Set('()<>@,;:\\"/[]?='.split(''));

class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  /** Skips white space and (nested) RFC 822 comments. */
  skip(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
      if (this.s[this.i] !== '(') return;
      let depth = 0;
      for (; this.i < this.s.length; this.i++) {
        const c = this.s[this.i];
        if (c === '\\') this.i++;
        else if (c === '(') depth++;
        else if (c === ')' && --depth === 0) { this.i++; break; }
      }
    }
  }

  token(): string {
    this.skip();
    const from = this.i;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c <= ' ' || c === '\x7f' || TSPECIALS.has(c)) break;
      this.i++;
    }
    return this.s.slice(from, this.i);
  }

  /** A quoted-string (RFC 822 §3.3), unquoted; null when the closing quote is missing (the rest is consumed). */
  quoted(): string | null {
    let out = '';
    for (this.i++; this.i < this.s.length; this.i++) {
      const c = this.s[this.i]!;
      if (c === '"') { this.i++; return out; }
      if (c === '\\' && this.i + 1 < this.s.length) out += this.s[++this.i];
      else out += c;
    }
    return null;
  }

  /**
   * A parameter value: quoted-string, or (leniently) everything up to the next `;` with spaces trimmed. Null for
   * an unterminated quoted-string: the parameter is not valid syntax and is dropped, as Dovecot does (a charset
   * there would otherwise swallow the rest of the line: docs/differential.md).
   */
  value(): string | null {
    this.skip();
    if (this.s[this.i] === '"') return this.quoted();
    const from = this.i;
    while (this.i < this.s.length && this.s[this.i] !== ';') this.i++;
    return this.s.slice(from, this.i).trim();
  }

  eat(c: string): boolean {
    this.skip();
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }
}

/** Reads the `;`-separated parameter list from the scanner position (RFC 2045 §5.1 `*(";" parameter)`). */
function readParams(sc: Scanner): RawParam[] {
  const out: RawParam[] = [];
  while (sc.i < sc.s.length) {
    if (!sc.eat(';')) {
      // Garbage between parameters: skip to the next `;`.
      const next = sc.s.indexOf(';', sc.i + 1);
      if (next < 0) break;
      sc.i = next;
      continue;
    }
    const name = sc.token().toLowerCase();
    if (!name || !sc.eat('=')) continue;
    const value = sc.value();
    if (value !== null) out.push([name, value]);
  }
  return out;
}

/** Percent-decoding of an RFC 2231 extended value to octets (RFC 2231 §4 `extended-other-values`). */
function percentBytes(s: string, into: number[]): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      into.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 128) {
      into.push(c);
    } else {
      for (const b of new TextEncoder().encode(s[i]!)) into.push(b);
    }
  }
}

/** Decodes octets in a charset named by RFC 2231; unknown charsets fall back to UTF-8 (with U+FFFD). */
function decodeCharset(bytes: number[], charset: string): string {
  const data = new Uint8Array(bytes);
  try {
    return new TextDecoder(charset || 'utf-8').decode(data);
  } catch {
    return new TextDecoder('utf-8').decode(data);
  }
}

/**
 * Joins RFC 2231 §3 continuations and decodes §4 extended values. A plain `name` is overridden by an RFC 2231
 * form of the same name (RFC 2231 §4.1 lets senders supply both for old readers).
 */
export function decodeParams(raw: RawParam[]): Map<string, string> {
  const plain = new Map<string, string>();
  const segments = new Map<string, Array<{ n: number; value: string; encoded: boolean }>>();
  for (const [name, value] of raw) {
    const m = /^([^*]+)\*(?:(\d+)(\*)?)?$/.exec(name);
    if (!m) {
      if (!plain.has(name)) plain.set(name, value);
      continue;
    }
    const base = m[1]!;
    const list = segments.get(base) ?? [];
    segments.set(base, list);
    if (m[2] === undefined) list.push({ n: 0, value, encoded: true });
    else list.push({ n: Number(m[2]), value, encoded: m[3] === '*' });
  }
  const out = new Map(plain);
  for (const [base, list] of segments) {
    list.sort((a, b) => a.n - b.n);
    const bytes: number[] = [];
    let charset = '';
    list.forEach((seg, idx) => {
      let v = seg.value;
      if (seg.encoded && idx === 0) {
        const m = /^([^']*)'[^']*'/.exec(v);
        if (m) { charset = m[1]!; v = v.slice(m[0].length); }
      }
      if (seg.encoded) percentBytes(v, bytes);
      else for (const b of new TextEncoder().encode(v)) bytes.push(b);
    });
    out.set(base, decodeCharset(bytes, charset));
  }
  return out;
}

/**
 * Parses `type "/" subtype *(";" parameter)` (RFC 2045 §5.1). Returns null when the media type is not
 * syntactically valid, so the caller can apply the RFC 2045 §5.2 default.
 */
export function parseContentType(text: string): ParsedValue | null {
  const sc = new Scanner(text);
  const type = sc.token().toLowerCase();
  if (!type || !sc.eat('/')) return null;
  const subtype = sc.token().toLowerCase();
  if (!subtype) return null;
  const rawParams = readParams(sc);
  return { value: `${type}/${subtype}`, params: decodeParams(rawParams), rawParams };
}

/** Parses `disposition-type *(";" disposition-parm)` (RFC 2183 §2). Null when there is no leading token. */
export function parseDisposition(text: string): ParsedValue | null {
  const sc = new Scanner(text);
  const value = sc.token().toLowerCase();
  if (!value) return null;
  const rawParams = readParams(sc);
  return { value, params: decodeParams(rawParams), rawParams };
}

/** Removes RFC 822 comments and surrounding white space from an unstructured-ish MIME value (e.g. Content-ID). */
export function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      if (depth === 0) out += c + text[i + 1];
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '"' && depth === 0) {
      quoted = true;
      out += c;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out.trim();
}
