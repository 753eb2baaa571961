/**
 * A byte-offset MIME splitter (RFC 2045, RFC 2046 §5.1.1, RFC 5322 §2.1): the part tree of a raw message with, for
 * every entity, where its header block and body lie in the raw octets, plus the parsed MIME header fields that
 * IMAP BODYSTRUCTURE (RFC 9051 §7.5.2) and section fetches (RFC 9051 §6.4.5) need.
 *
 * Runtime-neutral (Uint8Array only). Accepts CRLF and bare LF line ends and malformed input: a missing close
 * delimiter ends the last part at the end of the enclosing body, a missing blank line ends the header at the first
 * line that is not a field; nesting deeper than `MAX_MIME_DEPTH` is treated as an opaque leaf. Never throws.
 */
import { LF, CR, parseHeaderBlock, firstValue, lastValue, type HeaderField } from './header.ts';
import { parseContentType, parseDisposition, stripComments, type RawParam } from './params.ts';

/** Multipart/message nesting beyond this depth is not descended into (bounded work on hostile input). */
export const MAX_MIME_DEPTH = 64;

/** RFC 2045 §5.1 media type, lower-cased, with its parameters. */
export interface ContentType {
  type: string;
  subtype: string;
  /** Decoded parameters (RFC 2231 joined and charset-decoded), lower-cased names, in order. */
  params: Map<string, string>;
  /** Parameters as written (unquoted, names lower-cased), for servers that echo them verbatim. */
  rawParams: RawParam[];
  /** False when the header had no (valid) Content-Type and the RFC 2045 §5.2 / RFC 2046 §5.1.5 default applies. */
  explicit: boolean;
}

/** RFC 2183 Content-Disposition. */
export interface ContentDisposition {
  /** Lower-cased disposition type (`inline`, `attachment`, ...). */
  type: string;
  params: Map<string, string>;
  rawParams: RawParam[];
}

/**
 * One MIME entity: the whole message (root), a body part of a multipart, or an encapsulated message.
 * Offsets index the raw message given to `parseStructure`; `end` values are exclusive.
 */
export interface MimePart {
  /** First octet of the header block. */
  headerStart: number;
  /** End of the header block, including the delimiting blank line when there is one. */
  headerEnd: number;
  /** First octet of the body (= headerEnd). */
  bodyStart: number;
  /** End of the body; for a multipart body part, before the line end that precedes the next delimiter. */
  bodyEnd: number;
  /** True when the header block ended with a blank line (RFC 5322 §2.1); RFC 9051 §6.4.5 cares. */
  hasBlankLine: boolean;
  /** Line-end style of this entity's header block, for synthesized lines. */
  lineEnd: '\r\n' | '\n';
  /** Every header field of the entity, in order, as offsets into the raw message. */
  fields: HeaderField[];
  contentType: ContentType;
  /** RFC 2045 §6.1 Content-Transfer-Encoding, lower-cased; `7bit` when absent. */
  encoding: string;
  disposition: ContentDisposition | null;
  /** RFC 2045 §7 Content-ID as written (comments removed), or null. */
  id: string | null;
  /** RFC 2045 §8 Content-Description, unfolded, not RFC 2047-decoded, or null. */
  description: string | null;
  /** RFC 3282 Content-Language tags, or null when absent. */
  language: string[] | null;
  /** RFC 2557 Content-Location (folding white space removed), or null. */
  location: string | null;
  /** Body size in text lines: line ends in the body, plus one for a final line without a line end. */
  lines: number;
  /** Body parts of a multipart entity (RFC 2046 §5.1), in order; empty for any other entity. */
  children: MimePart[];
  /** The encapsulated message of a message/rfc822 or message/global entity (RFC 2046 §5.2.1), else null. */
  message: MimePart | null;
}

/** True for the media types whose body is a whole message with its own part numbers (RFC 9051 §6.4.5). */
export function isMessageType(ct: ContentType): boolean {
  return ct.type === 'message' && (ct.subtype === 'rfc822' || ct.subtype === 'global');
}

/** Encodings under which the body octets are the message itself (RFC 2046 §5.2.1: no base64/QP for message/rfc822). */
const IDENTITY_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

/** Parses the structure of a whole raw message (RFC 5322 message, MIME or not). */
export function parseStructure(raw: Uint8Array): MimePart {
  return parseEntity(raw, 0, raw.length, false, 0);
}

function defaultType(inDigest: boolean): ContentType {
  return inDigest
    ? { type: 'message', subtype: 'rfc822', params: new Map(), rawParams: [], explicit: false }
    : { type: 'text', subtype: 'plain', params: new Map([['charset', 'us-ascii']]), rawParams: [['charset', 'us-ascii']], explicit: false };
}

/** Text lines of a body: LF count, plus one for a trailing partial line. */
function countLines(raw: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let p = raw.indexOf(LF, start); p >= 0 && p < end; p = raw.indexOf(LF, p + 1)) n++;
  return end > start && raw[end - 1] !== LF ? n + 1 : n;
}

/** Parses one entity occupying raw[start, end); `inDigest` selects the multipart/digest default type. */
function parseEntity(raw: Uint8Array, start: number, end: number, inDigest: boolean, depth: number): MimePart {
  const block = parseHeaderBlock(raw, start, end);
  const { fields } = block;
  const ctText = firstValue(raw, fields, 'content-type');
  const ct = ctText === null ? null : parseContentType(ctText);
  const contentType: ContentType = ct
    ? { type: ct.value.slice(0, ct.value.indexOf('/')), subtype: ct.value.slice(ct.value.indexOf('/') + 1), params: ct.params, rawParams: ct.rawParams, explicit: true }
    : defaultType(inDigest);
  // RFC 2183 allows one Content-Disposition; of several, the last wins, as at Dovecot (docs/differential.md).
  const dispText = lastValue(raw, fields, 'content-disposition');
  const disp = dispText === null ? null : parseDisposition(dispText);
  const cte = firstValue(raw, fields, 'content-transfer-encoding');
  const id = firstValue(raw, fields, 'content-id');
  const lang = firstValue(raw, fields, 'content-language');
  const loc = firstValue(raw, fields, 'content-location');
  const part: MimePart = {
    headerStart: start,
    headerEnd: block.end,
    bodyStart: block.end,
    bodyEnd: end,
    hasBlankLine: block.hasBlankLine,
    lineEnd: block.lineEnd,
    fields,
    contentType,
    encoding: (cte === null ? '' : stripComments(cte).toLowerCase()) || '7bit',
    disposition: disp ? { type: disp.value, params: disp.params, rawParams: disp.rawParams } : null,
    id: id === null ? null : stripComments(id),
    description: firstValue(raw, fields, 'content-description'),
    language: lang === null ? null : stripComments(lang).split(',').map((s) => s.trim()).filter(Boolean),
    location: loc === null ? null : loc.replace(/\s+/g, ''),
    lines: countLines(raw, block.end, end),
    children: [],
    message: null,
  };
  if (depth >= MAX_MIME_DEPTH) return part;
  const boundary = contentType.params.get('boundary');
  if (contentType.type === 'multipart' && boundary) {
    const digest = contentType.subtype === 'digest';
    part.children = splitMultipart(raw, part.bodyStart, end, boundary).map(([s, e]) => parseEntity(raw, s, e, digest, depth + 1));
  } else if (isMessageType(contentType) && IDENTITY_ENCODINGS.has(part.encoding)) {
    part.message = parseEntity(raw, part.bodyStart, end, false, depth + 1);
  }
  return part;
}

/**
 * Body-part ranges of a multipart body raw[start, end) per RFC 2046 §5.1.1. A delimiter line begins with
 * `--boundary`, at the start of the body or after a line end; the close delimiter adds `--`. The line end before a delimiter belongs to
 * the delimiter, so a part ends before it. The preamble (before the first delimiter) and the epilogue (after the
 * close delimiter) belong to no part. Without a close delimiter the last part runs to `end`.
 */
export function splitMultipart(raw: Uint8Array, start: number, end: number, boundary: string): Array<[number, number]> {
  const dash = new TextEncoder().encode(`--${boundary}`);
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  for (let p = start; p < end;) {
    const next = raw.indexOf(LF, p);
    const lineEnd = next < 0 || next >= end ? end : next + 1;
    const kind = delimiterKind(raw, p, lineEnd, dash);
    if (kind) {
      if (partStart >= 0) parts.push([partStart, Math.max(partStart, precedingLineEndStart(raw, p, partStart))]);
      if (kind === 'close') return parts;
      partStart = lineEnd;
    }
    p = lineEnd;
  }
  if (partStart >= 0) parts.push([partStart, end]);
  return parts;
}

/** Where the line end just before `p` starts (CRLF or LF), not going below `floor`. */
function precedingLineEndStart(raw: Uint8Array, p: number, floor: number): number {
  if (p - 1 >= floor && raw[p - 1] === LF) return p - 2 >= floor && raw[p - 2] === CR ? p - 2 : p - 1;
  return p;
}

/** RFC 2046 §5.1.1 `bchars` minus space: octets that could continue a longer boundary. */
const BCHARS = new Set(Array.from("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?", (c) => c.charCodeAt(0)));

/**
 * Classifies the line at `p` as an RFC 2046 delimiter (`open`), close delimiter (`close`) or neither. The line
 * begins with `--boundary`; `--` right after makes it the close delimiter (anything after that is ignored).
 * Otherwise, per the RFC 2046 §5.1.1 note to implementors, the rest of the line need not be padding only, but a
 * boundary character right after means a different, longer boundary (`--m4` must not match the line `--m42`,
 * which matters for a region-based splitter that sees an inner multipart's lines before knowing its boundary).
 */
function delimiterKind(raw: Uint8Array, p: number, lineEnd: number, dash: Uint8Array): 'open' | 'close' | null {
  if (lineEnd - p < dash.length) return null;
  for (let i = 0; i < dash.length; i++) if (raw[p + i] !== dash[i]) return null;
  const q = p + dash.length;
  if (q + 1 < lineEnd && raw[q] === 45 && raw[q + 1] === 45) return 'close';
  return q < lineEnd && BCHARS.has(raw[q]!) ? null : 'open';
}
