/**
 * Byte-exact MIME reading for the embedded store: header fields as stored (RFC 8621 §4.1.2.1 Raw), the part tree
 * of RFC 2045/2046 with offsets into the stored message, and content-transfer decoding. Never rewrites bytes.
 */
import { decodeWords } from 'postal-mime';

/** One header field: the name as written and the Raw form of its value (RFC 8621 §4.1.3 EmailHeader). */
export interface RawHeader { name: string; value: string }

/** A MIME entity with its location in the stored message (RFC 2045 §2.4, RFC 2046 §5.1). */
export interface MimePart {
  headers: RawHeader[];
  /** Lower-case media type without parameters; implicit default per RFC 2045 §5.2 / RFC 2046 §5.1.5. */
  type: string;
  params: Record<string, string>;
  disposition: string | null;
  dispositionParams: Record<string, string>;
  /** Octet offsets of the (still transfer-encoded) body in the stored message. */
  bodyStart: number;
  bodyEnd: number;
  /** Depth-first number of a non-multipart part ("1", "2"...); null for multipart (RFC 8621 §4.1.4 partId). */
  partId: string | null;
  subParts: MimePart[] | null;
}

const utf8 = new TextDecoder('utf-8');
const LF = 10, CR = 13, SP = 32, TAB = 9, COLON = 58;

/** Decodes octets as UTF-8 with U+FFFD for invalid runs and drops NUL (RFC 8621 §4.1.2.1). */
export function decodeRaw(bytes: Uint8Array): string {
  return utf8.decode(bytes).replace(/\0/g, '');
}

/** Reads the header section starting at `start`; `bodyStart` is the first octet after the empty line. */
export function readHeaders(raw: Uint8Array, start = 0, end = raw.length): { headers: RawHeader[]; bodyStart: number } {
  const headers: RawHeader[] = [];
  let pos = start;
  let current: { nameEnd: number; lineStart: number; valueEnd: number } | null = null;
  const flush = () => {
    if (!current) return;
    const name = decodeRaw(raw.subarray(current.lineStart, current.nameEnd)).trimEnd();
    headers.push({ name, value: decodeRaw(raw.subarray(current.nameEnd + 1, current.valueEnd)) });
    current = null;
  };
  while (pos < end) {
    let eol = raw.indexOf(LF, pos);
    if (eol < 0 || eol >= end) eol = end;
    const contentEnd = eol > pos && raw[eol - 1] === CR ? eol - 1 : eol;
    if (contentEnd === pos) { flush(); return { headers, bodyStart: Math.min(eol + 1, end) }; }
    const first = raw[pos];
    if ((first === SP || first === TAB) && current) {
      (current as { valueEnd: number }).valueEnd = contentEnd;
    } else {
      flush();
      const colon = raw.indexOf(COLON, pos);
      if (colon >= 0 && colon < contentEnd) current = { lineStart: pos, nameEnd: colon, valueEnd: contentEnd };
    }
    pos = eol + 1;
  }
  flush();
  return { headers, bodyStart: end };
}

/** Unfolds a Raw value (RFC 5322 §2.2.3): line breaks followed by white space are removed. */
export const unfold = (v: string): string => v.replace(/\r?\n(?=[ \t])/g, '');

/** RFC 8621 §4.1.2.2 Text form: unfold, drop leading SP, decode RFC 2047 words, NFC. */
export function textForm(raw: string): string {
  const v = unfold(raw).replace(/^ +/, '');
  // eslint-style: postal-mime's decoder handles adjacent encoded words and known charsets.
  return decodeWords(v).replace(/[\0-\x08\x0b\x0c\x0e-\x1f]/g, '').normalize('NFC');
}

/** Splits `value; a=b; c="d"` into the lower-case value and its parameters, with RFC 2231 continuations. */
export function parseStructured(raw: string): { value: string; params: Record<string, string> } {
  const s = unfold(raw).replace(/\([^()]*\)/g, '');
  const parts: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') quoted = !quoted;
    if (c === '\\' && quoted && i + 1 < s.length) { cur += c + s[++i]; continue; }
    if (c === ';' && !quoted) { parts.push(cur); cur = ''; } else cur += c;
  }
  parts.push(cur);
  const value = (parts.shift() ?? '').trim().toLowerCase();
  const pieces = new Map<string, { n: number; v: string; ext: boolean }[]>();
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let key = p.slice(0, eq).trim().toLowerCase();
    let val = p.slice(eq + 1).trim();
    if (val.startsWith('"')) val = val.slice(1, val.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, '$1');
    const m = /^(.*?)(?:\*(\d+))?(\*)?$/.exec(key)!;
    key = m[1]!;
    const list = pieces.get(key) ?? [];
    list.push({ n: Number(m[2] ?? 0), v: val, ext: !!m[3] });
    pieces.set(key, list);
  }
  const params: Record<string, string> = {};
  for (const [key, list] of pieces) {
    list.sort((a, b) => a.n - b.n);
    if (!list.some((x) => x.ext)) { params[key] = decodeWords(list.map((x) => x.v).join('')); continue; }
    let charset = 'utf-8';
    const bytes: number[] = [];
    list.forEach((x, i) => {
      let v = x.v;
      if (i === 0 && x.ext) {
        const m2 = /^([^']*)'[^']*'(.*)$/s.exec(v);
        if (m2) { charset = m2[1] || 'utf-8'; v = m2[2]!; }
      }
      if (x.ext) v.replace(/%([0-9a-fA-F]{2})|[^%]/g, (all, hex: string | undefined) => {
        if (hex) bytes.push(parseInt(hex, 16)); else for (const b of new TextEncoder().encode(all)) bytes.push(b);
        return '';
      });
      else for (const b of new TextEncoder().encode(v)) bytes.push(b);
    });
    params[key] = decodeCharset(new Uint8Array(bytes), charset).text;
  }
  return { value, params };
}

/** Decodes text in a charset; unknown charsets fall back to UTF-8 and report a problem (RFC 8621 §4.1.4). */
export function decodeCharset(bytes: Uint8Array, charset: string): { text: string; problem: boolean } {
  try {
    return { text: new TextDecoder(charset.trim().toLowerCase(), { fatal: true }).decode(bytes), problem: false };
  } catch (e) {
    let dec: TextDecoder;
    try { dec = new TextDecoder(charset.trim().toLowerCase()); } catch { dec = utf8; }
    return { text: dec.decode(bytes), problem: true };
  }
}

const lastHeader = (headers: RawHeader[], name: string) =>
  headers.filter((h) => h.name.toLowerCase() === name).at(-1)?.value;

/** Finds the next boundary delimiter line (RFC 2046 §5.1.1); returns where the preceding line break starts. */
function findBoundary(raw: Uint8Array, delim: Uint8Array, from: number, end: number):
  { before: number; after: number; close: boolean } | null {
  let pos = from;
  while (pos < end) {
    const atLineStart = pos === from || raw[pos - 1] === LF;
    if (atLineStart && raw[pos] === 45 && matches(raw, delim, pos, end)) {
      let p = pos + delim.length;
      const close = raw[p] === 45 && raw[p + 1] === 45;
      if (close) p += 2;
      let eol = raw.indexOf(LF, p);
      if (eol < 0 || eol >= end) eol = end - 1;
      let before = pos;
      if (before > from && raw[before - 1] === LF) before--;
      if (before > from && raw[before - 1] === CR) before--;
      return { before: Math.max(before, from), after: Math.min(eol + 1, end), close };
    }
    const nl = raw.indexOf(LF, pos);
    if (nl < 0 || nl >= end) return null;
    pos = nl + 1;
  }
  return null;
}

function matches(raw: Uint8Array, needle: Uint8Array, at: number, end: number): boolean {
  if (at + needle.length > end) return false;
  for (let i = 0; i < needle.length; i++) if (raw[at + i] !== needle[i]) return false;
  return true;
}

/** Parses the MIME tree of a stored message; message/rfc822 parts are not entered (RFC 8621 §4.1.4 bodyStructure). */
export function parseMime(raw: Uint8Array): MimePart {
  let counter = 0;
  const walk = (start: number, end: number, parentMultipart: string | null, depth: number): MimePart => {
    const { headers, bodyStart } = readHeaders(raw, start, end);
    const ctRaw = lastHeader(headers, 'content-type');
    const ct = ctRaw !== undefined ? parseStructured(ctRaw) : null;
    let type = ct && /^[^/\s]+\/[^/\s]+$/.test(ct.value) ? ct.value : parentMultipart === 'digest' ? 'message/rfc822' : 'text/plain';
    const params = ct?.params ?? {};
    if (!ct && type === 'text/plain') params.charset ??= 'us-ascii';
    const cdRaw = lastHeader(headers, 'content-disposition');
    const cd = cdRaw !== undefined ? parseStructured(cdRaw) : null;
    const part: MimePart = { headers, type, params, disposition: cd?.value || null, dispositionParams: cd?.params ?? {},
      bodyStart, bodyEnd: end, partId: null, subParts: null };
    const boundary = params.boundary;
    if (type.startsWith('multipart/') && boundary && depth < 64) {
      const delim = new TextEncoder().encode('--' + boundary);
      part.subParts = [];
      let b = findBoundary(raw, delim, bodyStart, end);
      while (b && !b.close) {
        const next = findBoundary(raw, delim, b.after, end);
        const childEnd = next ? next.before : end;
        part.subParts.push(walk(b.after, childEnd, type.slice(10), depth + 1));
        b = next;
      }
      if (part.subParts.length > 0) return part;
      part.subParts = null;
      type = part.type = 'text/plain';
    }
    if (type.startsWith('multipart/')) { part.type = type = 'text/plain'; }
    part.partId = String(++counter);
    return part;
  };
  return walk(0, raw.length, null, 0);
}

/** Decodes base64 leniently (RFC 2045 §6.8: characters outside the alphabet are ignored). */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, '');
  const usable = clean.length - (clean.length % 4 === 1 ? 1 : 0);
  const out = new Uint8Array(Math.floor((usable * 3) / 4));
  const val = (c: number) => (c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 43 ? 62 : 63);
  let o = 0, acc = 0, bits = 0;
  for (let i = 0; i < usable; i++) {
    acc = (acc << 6) | val(clean.charCodeAt(i)); bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff; }
  }
  return out.subarray(0, o);
}

/** Decodes quoted-printable (RFC 2045 §6.7), leaving malformed escapes as they are. */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const hex = (c: number | undefined) => c === undefined ? -1 : c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== 61) { out[o++] = c; continue; }
    let j = i + 1;
    while (bytes[j] === SP || bytes[j] === TAB) j++;
    if (bytes[j] === CR && bytes[j + 1] === LF) { i = j + 1; continue; }
    if (bytes[j] === LF) { i = j; continue; }
    const h = hex(bytes[i + 1]), l = hex(bytes[i + 2]);
    if (h >= 0 && l >= 0) { out[o++] = h * 16 + l; i += 2; } else out[o++] = c;
  }
  return out.subarray(0, o);
}

/** The decoded octets of a leaf part (RFC 8621 §4.1.4 blobId: after content-transfer decoding). */
export function partContent(raw: Uint8Array, part: MimePart): Uint8Array {
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  const cte = (lastHeader(part.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
  if (cte === 'base64') return decodeBase64(decodeRaw(body));
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** Whether the part's transfer encoding is one we know (RFC 2045 §6.1). */
export function knownEncoding(part: MimePart): boolean {
  const cte = (lastHeader(part.headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  return ['7bit', '8bit', 'binary', 'base64', 'quoted-printable'].includes(cte);
}

/** Text of a text/* part: charset-decoded, CRLF -> LF (RFC 8621 §4.1.4 EmailBodyValue). */
export function partText(raw: Uint8Array, part: MimePart): { text: string; problem: boolean } {
  const r = decodeCharset(partContent(raw, part), part.params.charset ?? 'us-ascii');
  return { text: r.text.replace(/\r\n/g, '\n'), problem: r.problem || !knownEncoding(part) };
}

/** Leaf parts depth-first. */
export function leaves(part: MimePart): MimePart[] {
  return part.subParts ? part.subParts.flatMap(leaves) : [part];
}

/** Finds a leaf by partId. */
export function findPart(part: MimePart, partId: string): MimePart | undefined {
  return leaves(part).find((p) => p.partId === partId);
}

/** RFC 8621 §4.1.4 part name: Content-Disposition filename, else Content-Type name. */
export function partName(part: MimePart): string | null {
  return part.dispositionParams.filename ?? part.params.name ?? null;
}

/** Visible text of HTML for previews and search (tags, head, style and script dropped; entities basic). */
export function htmlToText(html: string): string {
  return html
    .replace(/<(head|style|script)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<br\s*\/?>|<\/p>|<\/div>|<\/li>|<\/tr>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');
}
