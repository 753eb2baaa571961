/**
 * IMAP body section extraction: `BODY[<section>]<<partial>>` of RFC 9051 §6.4.5 (same rules as RFC 3501 §6.4.5).
 *
 * Line-end rule: the gateway returns stored octets exactly as stored. `BODY[]`, `HEADER`, `TEXT`, `MIME` and part
 * bodies are slices of the raw message, bare LF included, never re-encoded. Only `HEADER.FIELDS[.NOT]` builds new
 * output: the selected fields keep their original octets and folding; the delimiting blank line it appends, and the
 * line end it adds to a last field that had none, use the line-end style of that header block (CRLF, or LF when the
 * block uses bare LF).
 *
 * Part numbering (RFC 9051 §6.4.5): a multipart entity's parts are numbered 1..n in order; a message that is not
 * multipart (top-level or encapsulated) has only part 1, which is that message's body (with the message's header as
 * its MIME header); the part numbers below a MESSAGE/RFC822 or MESSAGE/GLOBAL part are those of the encapsulated
 * message. Leaves have no sub-parts.
 */
import { parseHeaderBlock, asciiLower, LF, type HeaderField } from './header.ts';
import { isMessageType, parseStructure, type MimePart } from './structure.ts';

/** The non-numeric part specifiers of RFC 9051 §6.4.5.1 (`section-msgtext` / `MIME`). */
export type SectionKind = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

/** A parsed `section` (RFC 9051 §9 `section-spec`): numeric part path, then an optional text specifier. */
export interface SectionSpec {
  /** `section-part` numbers, e.g. [4, 2, 2, 1]; empty for the whole message. */
  part: number[];
  kind?: SectionKind;
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT (RFC 9051 §9 `header-list`). */
  fields?: string[];
}

/** The numbered sub-parts of a message entity: its body parts when multipart, else just itself (part 1). */
function messageParts(msg: MimePart): MimePart[] {
  return msg.contentType.type === 'multipart' ? msg.children : [msg];
}

/** The numbered sub-parts of a body part: a multipart's parts, an encapsulated message's parts, or none. */
function subParts(part: MimePart): MimePart[] {
  if (part.contentType.type === 'multipart') return part.children;
  if (part.message) return messageParts(part.message);
  return [];
}

/**
 * Resolves a numeric part path from the root message (RFC 9051 §6.4.5.1). Returns null when a number names no part
 * (0, past the end, or below a leaf).
 */
export function resolvePart(root: MimePart, path: number[]): MimePart | null {
  let cur: MimePart | null = null;
  for (const n of path) {
    const list: MimePart[] = cur === null ? messageParts(root) : subParts(cur);
    cur = Number.isInteger(n) && n >= 1 ? list[n - 1] ?? null : null;
    if (!cur) return null;
  }
  return cur;
}

/**
 * The octets of `BODY[section]` (RFC 9051 §6.4.5), or null when the section names nothing in this message:
 * a missing part, `MIME` without a part number, or `HEADER`/`HEADER.FIELDS[.NOT]`/`TEXT` after a part number
 * that is not a MESSAGE/RFC822 or MESSAGE/GLOBAL part (§6.4.5.1 allows them only there). Callers typically answer
 * null with an empty string or NIL. Slices share memory with `raw`; do not mutate them.
 */
export function extractSection(raw: Uint8Array, root: MimePart, section: SectionSpec): Uint8Array | null {
  const part = section.part.length ? resolvePart(root, section.part) : root;
  if (!part) return null;
  const kind = section.kind;
  if (kind === undefined) {
    // BODY[] is the whole message; BODY[n] is the body of part n (for a message/rfc822 part: the whole
    // encapsulated message, header included; RFC 9051 §6.4.5 example part 3 / 4.2).
    return section.part.length ? raw.subarray(part.bodyStart, part.bodyEnd) : raw.subarray(root.headerStart, root.bodyEnd);
  }
  if (kind === 'MIME') return section.part.length ? raw.subarray(part.headerStart, part.headerEnd) : null;
  const msg = section.part.length ? (isMessageType(part.contentType) ? part.message : null) : root;
  if (!msg) return null;
  switch (kind) {
    case 'TEXT':
      return raw.subarray(msg.bodyStart, msg.bodyEnd);
    case 'HEADER':
      return headerWithBlankLine(raw, msg);
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return selectFields(raw, msg.fields, section.fields ?? [], kind === 'HEADER.FIELDS.NOT', msg.lineEnd, wantsBlankLine(msg));
  }
}

/**
 * Whether a header fetch ends with the delimiting blank line: RFC 9051 §7.5.2 includes it always "except in the
 * case of a message that has no body and no blank line".
 */
function wantsBlankLine(msg: MimePart): boolean {
  return msg.hasBlankLine || msg.bodyEnd > msg.bodyStart;
}

/** HEADER: the header block as stored; line ends are synthesized only for a malformed header that lacks them. */
function headerWithBlankLine(raw: Uint8Array, msg: MimePart): Uint8Array {
  const block = raw.subarray(msg.headerStart, msg.headerEnd);
  if (msg.hasBlankLine || !wantsBlankLine(msg)) return block;
  const missingLineEnd = block.length > 0 && block[block.length - 1] !== LF;
  return concat([block, ascii((missingLineEnd ? msg.lineEnd : '') + msg.lineEnd)]);
}

/**
 * The HEADER.FIELDS / HEADER.FIELDS.NOT subset: each selected field (every occurrence, in message order) with
 * its original octets and folding, then the blank line when `withBlank`. Names match ASCII case-insensitively.
 * A last field cut off without a line end gets one (`lineEnd`), so the result is always whole lines.
 */
function selectFields(raw: Uint8Array, fields: HeaderField[], names: string[], not: boolean, lineEnd: string, withBlank: boolean): Uint8Array {
  const wanted = new Set(names.map(asciiLower));
  const chunks: Uint8Array[] = [];
  for (const f of fields) {
    if (wanted.has(asciiLower(f.name)) === not) continue;
    chunks.push(raw.subarray(f.start, f.end));
    if (raw[f.end - 1] !== LF) chunks.push(ascii(lineEnd));
  }
  if (withBlank) chunks.push(ascii(lineEnd));
  return concat(chunks);
}

/**
 * HEADER.FIELDS (or, with `not`, HEADER.FIELDS.NOT) of the top-level header of a raw message or of a bare header
 * block, without parsing the MIME structure. Same output as `extractSection(..., { part: [], kind })`.
 */
export function headerFieldsFromRaw(raw: Uint8Array, names: string[], not = false): Uint8Array {
  const block = parseHeaderBlock(raw, 0, raw.length);
  const hasBody = block.end < raw.length;
  return selectFields(raw, block.fields, names, not, block.lineEnd, block.hasBlankLine || hasBody);
}

/**
 * RFC 9051 §6.4.5 `<origin.octets>`: at most `length` octets from `offset`; empty when `offset` is at or past the
 * end. Applied after subsetting (for HEADER.FIELDS, to the subset).
 */
export function applyPartial(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  const from = Math.max(0, offset);
  if (from >= bytes.length || length <= 0) return bytes.subarray(0, 0);
  return bytes.subarray(from, Math.min(bytes.length, from + length));
}

/** Convenience: parse and extract in one call (for callers without a cached structure). */
export function extractSectionFromRaw(raw: Uint8Array, section: SectionSpec): Uint8Array | null {
  return extractSection(raw, parseStructure(raw), section);
}

function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) { out.set(c, p); p += c.length; }
  return out;
}
