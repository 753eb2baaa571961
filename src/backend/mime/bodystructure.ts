/**
 * IMAP BODYSTRUCTURE (extended) and BODY (non-extensible) from a parsed MIME tree (RFC 9051 §7.5.2, §9 `body`,
 * `body-type-1part`, `body-type-mpart`, `body-ext-1part`, `body-ext-mpart`), as a `Value` tree for the encoder.
 *
 * Choices follow Dovecot 2.3 (the reference server), checked against its answers for the same messages
 * (test/mime/bodystructure-dovecot.test.ts):
 * - type, subtype, parameter names and values, encoding are strings as written in the message; the defaults
 *   (no or invalid Content-Type, RFC 2045 §5.2) are `"text" "plain" ("charset" "us-ascii")` and `"7bit"`; a text
 *   part without a charset parameter gets `("charset" "us-ascii")`;
 * - RFC 2231 parameters: continuations are joined; an encoded value keeps its encoding under `name*`; plain
 *   parameters come first, then the RFC 2231 ones;
 * - body-fld-lines counts the line ends in the body (a last line without one is not counted);
 * - a multipart without parts (no boundary, or none found) has one empty text/plain part;
 * - body-fld-md5 is NIL; language is a list of tags, location a string, both NIL when absent.
 */
import type { Value } from '../../protocol/types.ts';
import { envelopeOf } from './envelope.ts';
import { firstValue, lastValue, LF } from './header.ts';
import { stripComments, type RawParam } from './params.ts';
import { isMessageType, type MimePart } from './structure.ts';

/** The BODYSTRUCTURE (`extended`) or BODY value of a message (`root` parsed from `raw`). */
export function bodyStructure(raw: Uint8Array, root: MimePart, extended: boolean): Value {
  return body(raw, root, extended);
}

const DEFAULT_TEXT: Value[] = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', 0, 0];

function body(raw: Uint8Array, part: MimePart, ext: boolean): Value {
  const ct = asWritten(raw, part);
  if (part.contentType.type === 'multipart') {
    const kids: Value[] = part.children.length
      ? part.children.map((c) => body(raw, c, ext))
      : [ext ? [...DEFAULT_TEXT, null, null, null, null] : DEFAULT_TEXT];
    const out: Value[] = [{ juxtaposed: kids }, ct.subtype]; // RFC 9051 §9 `1*body SP media-subtype`
    if (ext) out.push(params(ct.params), disposition(raw, part), language(part), part.location);
    return out;
  }
  const text = part.contentType.type === 'text';
  let p = ct.params;
  if (text && !part.contentType.params.has('charset')) p = [...p, ['charset', 'us-ascii']]; // after the others, as Dovecot
  const out: Value[] = [
    ct.type, ct.subtype, params(p), part.id, part.description, encodingAsWritten(raw, part), part.bodyEnd - part.bodyStart,
  ];
  if (isMessageType(part.contentType)) {
    const inner = part.message;
    out.push(inner ? envelopeValue(raw, inner) : [null, null, null, null, null, null, null, null, null, null]);
    out.push(inner ? body(raw, inner, ext) : ext ? [...DEFAULT_TEXT, null, null, null, null] : DEFAULT_TEXT);
    out.push(lineEnds(raw, part.bodyStart, part.bodyEnd));
  } else if (text) {
    out.push(lineEnds(raw, part.bodyStart, part.bodyEnd));
  }
  if (ext) out.push(null, disposition(raw, part), language(part), part.location);
  return out;
}

/** RFC 9051 §9 `envelope` as a Value (same shape the ENVELOPE encoder writes). */
function envelopeValue(raw: Uint8Array, msg: MimePart): Value {
  const e = envelopeOf(raw, msg.fields);
  // RFC 9051 §9 `env-from = "(" 1*address ")"`: addresses follow each other without a space.
  const addrs = (list: typeof e.from): Value => (list && list.length ? [{ juxtaposed: list.map((a) => [a.name, a.adl, a.mailbox, a.host]) }] : null);
  return [e.date, e.subject, addrs(e.from), addrs(e.sender), addrs(e.replyTo), addrs(e.to), addrs(e.cc), addrs(e.bcc), e.inReplyTo, e.messageId];
}

function lineEnds(raw: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let p = raw.indexOf(LF, start); p >= 0 && p < end; p = raw.indexOf(LF, p + 1)) n++;
  return n;
}

function params(list: RawParam[]): Value {
  return list.length ? list.flatMap(([k, v]) => [k, v]) : null;
}

function disposition(raw: Uint8Array, part: MimePart): Value {
  if (!part.disposition) return null;
  const text = lastValue(raw, part.fields, 'content-disposition') ?? ''; // the one structure.ts parsed
  return [leadingToken(text) || part.disposition.type, params(paramsAsWritten(text, part.disposition.rawParams))];
}

function language(part: MimePart): Value {
  return part.language && part.language.length ? part.language : null;
}

/** Content-Transfer-Encoding as written (comments removed), `7bit` when absent. */
function encodingAsWritten(raw: Uint8Array, part: MimePart): string {
  const v = firstValue(raw, part.fields, 'content-transfer-encoding');
  return (v === null ? '' : stripComments(v)) || '7bit';
}

/** Type, subtype and parameters with the case of the message; the RFC 2045 §5.2 default when not explicit. */
function asWritten(raw: Uint8Array, part: MimePart): { type: string; subtype: string; params: RawParam[] } {
  const ct = part.contentType;
  if (!ct.explicit) return { type: ct.type, subtype: ct.subtype, params: ct.rawParams };
  const text = firstValue(raw, part.fields, 'content-type') ?? '';
  const m = /^\s*(?:\([^)]*\)\s*)*([^\s/;()]+)\s*\/\s*([^\s;()]+)/.exec(text);
  const type = m && m[1]!.toLowerCase() === ct.type ? m[1]! : ct.type;
  const subtype = m && m[2]!.toLowerCase() === ct.subtype ? m[2]! : ct.subtype;
  return { type, subtype, params: paramsAsWritten(text, ct.rawParams) };
}

function leadingToken(text: string): string {
  return /^\s*([^\s;()]+)/.exec(text)?.[1] ?? '';
}

/**
 * Parameters with their names in the message's case (params.ts lower-cases them), RFC 2231 continuations
 * joined: `name*0`, `name*1` -> `name`; any encoded segment -> `name*` with the value still encoded.
 * Plain parameters first, then the RFC 2231 ones (Dovecot's order).
 */
function paramsAsWritten(text: string, rawParams: RawParam[]): RawParam[] {
  let from = 0;
  const named: RawParam[] = rawParams.map(([name, value]) => {
    const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`;\\s*(${esc})\\s*=`, 'gi');
    re.lastIndex = from;
    const m = re.exec(text);
    if (!m) return [name, value];
    from = m.index + m[0].length;
    return [m[1]!, value];
  });
  const plain: RawParam[] = [];
  const groups = new Map<string, { name: string; segs: Array<{ n: number; v: string; enc: boolean }> }>();
  for (const [name, value] of named) {
    const m = /^([^*]+)\*(?:(\d+)(\*)?)?$/.exec(name);
    if (!m) { plain.push([name, value]); continue; }
    const key = m[1]!.toLowerCase();
    const g = groups.get(key) ?? { name: m[1]!, segs: [] };
    groups.set(key, g);
    g.segs.push(m[2] === undefined ? { n: 0, v: value, enc: true } : { n: Number(m[2]), v: value, enc: m[3] === '*' });
  }
  const extended: RawParam[] = [...groups.values()].map((g) => {
    g.segs.sort((a, b) => a.n - b.n);
    const enc = g.segs.some((s) => s.enc);
    return [enc ? `${g.name}*` : g.name, g.segs.map((s) => s.v).join('')];
  });
  return [...plain, ...extended];
}
