/**
 * Derived, immutable Email properties (RFC 8621 §4.1.3, §4.1.4) from the stored raw message.
 */
import { type MimePart, type RawHeader, findPart, htmlToText, leaves, parseMime, partContent, partName, partText,
  readHeaders, textForm, unfold } from './mime.ts';
import { type HeaderProperty, headerValue, parseHeaderProperty } from './header-forms.ts';

/** A stored message read once: its header, MIME tree and the body lists of RFC 8621 §4.1.4. */
export interface ParsedEmail {
  raw: Uint8Array;
  headers: RawHeader[];
  root: MimePart;
  textBody: MimePart[];
  htmlBody: MimePart[];
  attachments: MimePart[];
}

const inlineMedia = (t: string) => t.startsWith('image/') || t.startsWith('audio/') || t.startsWith('video/');

/** The decomposition algorithm suggested by RFC 8621 §4.1.4 (textBody / htmlBody / attachments). */
function decompose(parts: MimePart[], multipartType: string, inAlternative: boolean,
  htmlBody: MimePart[] | null, textBody: MimePart[] | null, attachments: MimePart[]): void {
  const textLength = textBody ? textBody.length : -1;
  const htmlLength = htmlBody ? htmlBody.length : -1;
  parts.forEach((part, i) => {
    const isInline = part.disposition !== 'attachment'
      && (part.type === 'text/plain' || part.type === 'text/html' || inlineMedia(part.type))
      && (i === 0 || (multipartType !== 'related' && (inlineMedia(part.type) || !partName(part))));
    if (part.subParts) {
      const sub = part.type.split('/')[1] ?? '';
      decompose(part.subParts, sub, inAlternative || sub === 'alternative', htmlBody, textBody, attachments);
    } else if (isInline) {
      if (multipartType === 'alternative') {
        if (part.type === 'text/plain') textBody?.push(part);
        else if (part.type === 'text/html') htmlBody?.push(part);
        else attachments.push(part);
        return;
      } else if (inAlternative) {
        if (part.type === 'text/plain') htmlBody = null;
        if (part.type === 'text/html') textBody = null;
      }
      textBody?.push(part);
      htmlBody?.push(part);
      if ((!textBody || !htmlBody) && inlineMedia(part.type)) attachments.push(part);
    } else attachments.push(part);
  });
  if (multipartType === 'alternative' && textBody && htmlBody) {
    if (textLength === textBody.length && htmlLength !== htmlBody.length) textBody.push(...htmlBody.slice(htmlLength));
    if (htmlLength === htmlBody.length && textLength !== textBody.length) htmlBody.push(...textBody.slice(textLength));
  }
}

export function parseEmail(raw: Uint8Array): ParsedEmail {
  const root = parseMime(raw);
  const textBody: MimePart[] = [], htmlBody: MimePart[] = [], attachments: MimePart[] = [];
  decompose([root], 'mixed', false, htmlBody, textBody, attachments);
  return { raw, headers: root.headers.length ? root.headers : readHeaders(raw).headers, root, textBody, htmlBody, attachments };
}

/** RFC 8621 §4.1.4 hasAttachment: an attachment that is not `Content-Disposition: inline`. */
export const hasAttachment = (p: ParsedEmail): boolean => p.attachments.some((a) => a.disposition !== 'inline');

/** Plain text of the displayed body (text parts, HTML reduced to its text). */
export function bodyText(p: ParsedEmail): string {
  const parts = p.textBody.length ? p.textBody : p.htmlBody;
  return parts.filter((x) => x.type.startsWith('text/'))
    .map((x) => { const t = partText(p.raw, x).text; return x.type === 'text/html' ? htmlToText(t) : t; }).join('\n');
}

/** RFC 8621 §4.1.4 preview: at most 256 characters, white space collapsed, quoted lines skipped. */
export function preview(p: ParsedEmail): string {
  const text = bodyText(p).split('\n').filter((l) => !l.startsWith('>')).join(' ').replace(/\s+/g, ' ').trim();
  return [...text].slice(0, 256).join('');
}

/** Blob id of a leaf part: the message blob plus the part number (Id-safe, RFC 8620 §1.2). */
export const partBlobId = (emailBlobId: string, partId: string) => `${emailBlobId}_${partId}`;

/** Default `bodyProperties` of Email/get (RFC 8621 §4.2). */
export const DEFAULT_BODY_PROPERTIES = ['partId', 'blobId', 'size', 'name', 'type', 'charset', 'disposition', 'cid',
  'language', 'location'];
export const BODY_PROPERTIES = new Set([...DEFAULT_BODY_PROPERTIES, 'headers', 'subParts']);

const lastRaw = (headers: RawHeader[], name: string) => headers.filter((h) => h.name.toLowerCase() === name).at(-1)?.value;

/** An EmailBodyPart object (RFC 8621 §4.1.4) with the requested properties. */
export function bodyPartObject(p: ParsedEmail, part: MimePart, blobId: string, props: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const prop of props) {
    const hp = parseHeaderProperty(prop);
    if (hp) { o[prop] = headerValue(part.headers, hp); continue; }
    switch (prop) {
      case 'partId': o.partId = part.partId; break;
      case 'blobId': o.blobId = part.partId ? partBlobId(blobId, part.partId) : null; break;
      case 'size': o.size = part.subParts ? 0 : partContent(p.raw, part).length; break;
      case 'headers': o.headers = part.headers.map((h) => ({ name: h.name, value: h.value })); break;
      case 'name': o.name = partName(part); break;
      case 'type': o.type = part.type; break;
      case 'charset': {
        const hasCt = lastRaw(part.headers, 'content-type') !== undefined;
        o.charset = part.params.charset ?? (!hasCt || part.type.startsWith('text/') ? 'us-ascii' : null);
        if (hasCt && !part.type.startsWith('text/') && part.params.charset === undefined) o.charset = null;
        break;
      }
      case 'disposition': o.disposition = part.disposition; break;
      case 'cid': { const v = lastRaw(part.headers, 'content-id'); o.cid = v === undefined ? null : unfold(v).trim().replace(/^<|>$/g, ''); break; }
      case 'language': {
        const v = lastRaw(part.headers, 'content-language');
        o.language = v === undefined ? null : unfold(v).split(',').map((s) => s.trim()).filter(Boolean);
        break;
      }
      case 'location': { const v = lastRaw(part.headers, 'content-location'); o.location = v === undefined ? null : unfold(v).trim(); break; }
      case 'subParts': o.subParts = part.subParts ? part.subParts.map((c) => bodyPartObject(p, c, blobId, props)) : null; break;
    }
  }
  return o;
}

/** Options of Email/get that select bodyValues (RFC 8621 §4.2). */
export interface BodyValueOptions { text: boolean; html: boolean; all: boolean; maxBytes: number }

/** RFC 8621 §4.1.4 bodyValues for the selected text parts, truncated on a UTF-8 boundary to maxBytes. */
export function bodyValues(p: ParsedEmail, o: BodyValueOptions): Record<string, unknown> {
  const chosen = new Set<MimePart>();
  if (o.all) for (const l of leaves(p.root)) { if (l.type.startsWith('text/')) chosen.add(l); }
  if (o.text) for (const l of p.textBody) { if (l.type.startsWith('text/')) chosen.add(l); }
  if (o.html) for (const l of p.htmlBody) { if (l.type.startsWith('text/')) chosen.add(l); }
  const out: Record<string, unknown> = {};
  for (const part of chosen) {
    const { text, problem } = partText(p.raw, part);
    let value = text, isTruncated = false;
    if (o.maxBytes > 0 && new TextEncoder().encode(text).length > o.maxBytes) {
      let bytes = 0; value = '';
      for (const ch of text) {
        const n = new TextEncoder().encode(ch).length;
        if (bytes + n > o.maxBytes) break;
        bytes += n; value += ch;
      }
      isTruncated = true;
    }
    out[part.partId!] = { value, isEncodingProblem: problem, isTruncated };
  }
  return out;
}

/** Decoded octets of a part blob id, or null if the part does not exist. */
export function partBytes(p: ParsedEmail, partId: string): { bytes: Uint8Array; type: string } | null {
  const part = findPart(p.root, partId);
  return part ? { bytes: partContent(p.raw, part), type: part.type } : null;
}

/** A `header:` property on the message header (RFC 8621 §4.1.3). */
export const messageHeader = (p: ParsedEmail, hp: HeaderProperty) => headerValue(p.headers, hp);

/** RFC 5256 §2.1 base subject, lower-cased, for sorting. */
export function baseSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim();
  for (;;) {
    const before = s;
    s = s.replace(/(\s*\(fwd\))+$/i, '').trim();
    s = s.replace(/^((\[[^\[\]]*\]\s*)*(re|fwd?|aw|wg|sv|vs)\s*(\[[^\[\]]*\])?\s*:\s*)/i, '').trim();
    s = s.replace(/^\[[^\[\]]*\]\s*(?=\S)/, '').trim();
    if (/^\[fwd:.*\]$/i.test(s)) s = s.slice(5, -1).trim();
    if (s === before) break;
  }
  return s.toLowerCase();
}

/** Decoded subject text for indexing (RFC 8621 §4.1.2.2). */
export const subjectText = (p: ParsedEmail): string => {
  const v = lastRaw(p.headers, 'subject');
  return v === undefined ? '' : textForm(v);
};
