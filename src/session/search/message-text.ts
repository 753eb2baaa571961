/**
 * What BODY and TEXT search (RFC 9051 §6.4.4) look at, taken from the raw message: the decoded text of its text
 * parts (transfer encoding undone, charset decoded; HTML both as source and reduced to text) and the decoded header fields of every
 * entity (TEXT: "the header (including MIME header fields) or body"). Non-text leaves (images, archives) are not
 * searched (RFC 9051 §6.4.4 allows excluding media types other than TEXT and MESSAGE). Encapsulated messages
 * (message/rfc822) are searched with their headers and text parts.
 */
import { parseHeaderBlock, type HeaderField } from '../../backend/mime/header.ts';
import { parseStructure, type MimePart } from '../../backend/mime/structure.ts';
import { casemap } from './casemap.ts';
import { decodeCharset, decodeHeaderOctets, decodeTransfer, headerText, htmlToText } from './decode.ts';

/** One header field: name as written, raw value (after the colon, folding kept) and its decoded text. */
export interface HeaderEntry {
  name: string;
  raw: string;
  text: string;
}

/** The searchable text of one message, casemapped (see casemap.ts), as cached per blob. */
export interface SearchText {
  header: string;
  body: string;
}

/** Header fields of the entity whose header block is `fields` (8-bit octets: UTF-8 or windows-1252). */
export function headerEntries(raw: Uint8Array, fields: HeaderField[]): HeaderEntry[] {
  return fields.map((f) => {
    const value = decodeHeaderOctets(raw.subarray(f.valueStart, f.end));
    return { name: f.name, raw: value, text: headerText(value) };
  });
}

/** The top-level header fields of a raw message (or of a header block alone): name and raw value, not decoded. */
export function topHeaders(raw: Uint8Array): Array<Omit<HeaderEntry, 'text'>> {
  return parseHeaderBlock(raw, 0, raw.length).fields.map((f) => ({ name: f.name, raw: decodeHeaderOctets(raw.subarray(f.valueStart, f.end)) }));
}

/**
 * The raw values (not decoded) of the top-level fields named in `names` (lower case), in message order, with an
 * empty list for each name absent: what `topHeaders` gives for those names, without decoding the other fields.
 */
export function topHeaderValues(raw: Uint8Array, names: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lengths = new Set<number>();
  for (const n of names) { out.set(n, []); lengths.add(n.length); }
  for (const f of parseHeaderBlock(raw, 0, raw.length).fields) {
    if (!lengths.has(f.name.length)) continue;
    const values = out.get(f.name.toLowerCase());
    if (values) values.push(decodeHeaderOctets(raw.subarray(f.valueStart, f.end)));
  }
  return out;
}

/** The casemapped header and body text of a raw message. */
export function searchText(raw: Uint8Array): SearchText {
  const header: string[] = [];
  const body: string[] = [];
  walk(raw, parseStructure(raw), header, body);
  return { header: casemap(header.join('\n')), body: casemap(body.join('\n')) };
}

function walk(raw: Uint8Array, part: MimePart, header: string[], body: string[]): void {
  for (const h of headerEntries(raw, part.fields)) header.push(`${h.name}: ${h.text}`);
  if (part.children.length > 0) {
    for (const c of part.children) walk(raw, c, header, body);
    return;
  }
  if (part.message) {
    // The encapsulated message's header is body text of the enclosing one (RFC 2046 §5.2.1).
    for (const h of headerEntries(raw, part.message.fields)) body.push(`${h.name}: ${h.text}`);
    walk(raw, { ...part.message, fields: [] }, header, body);
    return;
  }
  const { type, subtype, params } = part.contentType;
  if (type !== 'text') return;
  const text = decodeCharset(decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding), params.get('charset'));
  // HTML: the decoded source (what Dovecot searches: a string in a link or attribute is in the body, RFC 9051
  // §6.4.4) and its text (a word split by tags or written with entities is found too).
  body.push(subtype === 'html' ? `${text}\n${htmlToText(text)}` : text);
}
