/**
 * Byte-level reading of an RFC 5322 header block (RFC 5322 §2.2, §3.6; RFC 2045 §3 for MIME headers).
 *
 * Nothing here rewrites bytes: a field is a pair of offsets into the raw message, so callers can return it exactly
 * as stored (IMAP BODY[HEADER.FIELDS], RFC 9051 §6.4.5) or decode it when they need a value.
 * Both CRLF and bare LF end a line; a lone CR does not.
 */

export const LF = 10;
export const CR = 13;
const SP = 32;
const TAB = 9;
const COLON = 58;

/**
 * One header field as stored: `start..end` covers the name, the colon, the value, any folded continuation lines
 * and the final line end (RFC 5322 §2.2.3 folding). `valueStart` is the octet after the colon.
 */
export interface HeaderField {
  /** The field name as written, without trailing white space before the colon (RFC 5322 §4.5.3 obs-optional). */
  name: string;
  start: number;
  valueStart: number;
  end: number;
}

/** The header block of one entity: where it starts and ends, and how it ended (RFC 5322 §2.1, RFC 2046 §5.1.1). */
export interface HeaderBlock {
  fields: HeaderField[];
  start: number;
  /** Exclusive end, including the delimiting blank line when there is one (`hasBlankLine`). */
  end: number;
  /** True when the header block ended with an empty line (the RFC 5322 §2.1 separator). */
  hasBlankLine: boolean;
  /** Line-end style of the block (first line end seen; CRLF when none), used for synthesized lines. */
  lineEnd: '\r\n' | '\n';
}

/** Exclusive end of the line starting at `p` (after its LF), bounded by `end`. */
export function lineEndAt(raw: Uint8Array, p: number, end: number): number {
  const lf = raw.indexOf(LF, p);
  return lf < 0 || lf >= end ? end : lf + 1;
}

/** True when the octets at p..end begin an empty line: CRLF or LF. */
function isEmptyLine(raw: Uint8Array, p: number, end: number): boolean {
  return raw[p] === LF || (raw[p] === CR && p + 1 < end && raw[p + 1] === LF);
}

/**
 * Offset of the colon of a field line, or -1. RFC 5322 §3.6.8 names are printable US-ASCII; 8-bit octets are
 * tolerated in names (seen in the wild) so one bad name does not push the rest of the header into the body.
 * White space before the colon is allowed (RFC 5322 §4.5.3 obs-optional).
 */
function fieldColon(raw: Uint8Array, p: number, lineEnd: number): number {
  let q = p;
  while (q < lineEnd) {
    const c = raw[q]!;
    if (c === COLON || c < 33 || c === 127) break;
    q++;
  }
  if (q === p) return -1;
  while (q < lineEnd && (raw[q] === SP || raw[q] === TAB)) q++;
  return q < lineEnd && raw[q] === COLON ? q : -1;
}

/** ASCII-only decoding, for field names (RFC 5322 §3.6.8: printable US-ASCII). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** ASCII-range lower-casing (RFC 9051 §6.4.5: header field matching is ASCII-range case-insensitive). */
export function asciiLower(s: string): string {
  // Hot (every header field of every listed message): the built-in when the string is all ASCII, else by hand.
  return /^[\x00-\x7f]*$/.test(s) ? s.toLowerCase() : s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Reads the header block that starts at `start`, up to the first empty line (included in the block) or `end`.
 * A malformed line (no colon, or a continuation with no field before it) is skipped, not taken as the start of the
 * body: the header ends only at the empty line, as Dovecot reads it (test/differential). Never throws.
 */
export function parseHeaderBlock(raw: Uint8Array, start: number, end: number): HeaderBlock {
  const fields: HeaderField[] = [];
  let lineEnd: '\r\n' | '\n' | null = null;
  let p = start;
  let current: HeaderField | null = null;
  while (p < end) {
    const next = lineEndAt(raw, p, end);
    if (lineEnd === null && raw[next - 1] === LF) lineEnd = next - 2 >= p && raw[next - 2] === CR ? '\r\n' : '\n';
    if (isEmptyLine(raw, p, end)) {
      return { fields, start, end: next, hasBlankLine: true, lineEnd: lineEnd ?? '\r\n' };
    }
    const c = raw[p];
    if (c === SP || c === TAB) {
      if (current) current.end = next;
    } else {
      const colon = fieldColon(raw, p, next);
      if (colon < 0) {
        current = null; // a malformed line: skipped, and no continuation of it counts
        p = next;
        continue;
      }
      let nameEnd = colon;
      while (nameEnd > p && (raw[nameEnd - 1] === SP || raw[nameEnd - 1] === TAB)) nameEnd--;
      current = { name: latin1(raw, p, nameEnd), start: p, valueStart: colon + 1, end: next };
      fields.push(current);
    }
    p = next;
  }
  return { fields, start, end: p, hasBlankLine: false, lineEnd: lineEnd ?? '\r\n' };
}

/** All fields named `name` (ASCII case-insensitive), in message order. */
export function findFields(fields: HeaderField[], name: string): HeaderField[] {
  const want = asciiLower(name);
  return fields.filter((f) => asciiLower(f.name) === want);
}

const utf8 = new TextDecoder('utf-8');

/**
 * The unfolded value of a field (RFC 5322 §2.2.3: CRLF/LF followed by WSP is removed, the WSP kept), decoded as
 * UTF-8 (RFC 6532) with U+FFFD for invalid octets, without the final line end and with outer white space trimmed.
 */
export function fieldValue(raw: Uint8Array, field: HeaderField): string {
  return unfold(utf8.decode(raw.subarray(field.valueStart, field.end))).trim();
}

/** Removes folding line ends (RFC 5322 §2.2.3) and any final line end. */
export function unfold(text: string): string {
  return text.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '');
}

/** The value of the first field named `name`, or null when absent. */
export function firstValue(raw: Uint8Array, fields: HeaderField[], name: string): string | null {
  const f = findFields(fields, name)[0];
  return f ? fieldValue(raw, f) : null;
}

/** The value of the last field named `name`, or null when absent. */
export function lastValue(raw: Uint8Array, fields: HeaderField[], name: string): string | null {
  const f = findFields(fields, name).at(-1);
  return f ? fieldValue(raw, f) : null;
}
