/**
 * The first address of an address-list header (RFC 5322 §3.4), as SORT needs it: its `addr-mailbox` (the local
 * part, RFC 9051 §7.5.2 ENVELOPE; RFC 5256 §3 FROM/TO/CC) and its display name (RFC 5957 DISPLAYFROM/DISPLAYTO).
 * Groups (`team: a@x, b@y;`) yield their first member; comments are dropped; lenient, never throws.
 */
import { decodeEncodedWords } from './decode.ts';

export interface FirstAddress {
  /** Local part, unquoted (`addr-mailbox`). */
  mailbox: string;
  /** `local@domain` as written (unquoted). */
  addrSpec: string;
  /** Display name, RFC 2047-decoded; '' when none. */
  name: string;
}

/** Splits at top-level occurrences of `sep` (outside quotes, comments and angle brackets). */
function tokens(value: string): Array<{ text: string; sep: string }> {
  const out: Array<{ text: string; sep: string }> = [];
  let cur = '';
  let quoted = false;
  let depth = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      cur += c;
      if (c === '\\') cur += value[++i] ?? '';
      else if (c === '"') quoted = false;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '"') { quoted = true; cur += c; }
    else if (c === '(') depth = 1;
    else if (c === '<') { angle = true; cur += c; }
    else if (c === '>') { angle = false; cur += c; }
    else if (!angle && (c === ',' || c === ':' || c === ';')) { out.push({ text: cur, sep: c }); cur = ''; }
    else cur += c;
  }
  out.push({ text: cur, sep: '' });
  return out;
}

function unquote(s: string): string {
  return s.trim().replace(/"((?:[^"\\]|\\.)*)"/g, (_, q: string) => q.replace(/\\(.)/g, '$1')).trim();
}

/** The first mailbox of an address list, or null when there is none. */
export function firstAddress(value: string): FirstAddress | null {
  for (const { text, sep } of tokens(value)) {
    if (sep === ':') continue; // a group's display name (RFC 5322 §3.4 group)
    const t = text.trim();
    if (t === '') continue;
    const lt = t.lastIndexOf('<');
    const spec = lt >= 0 ? t.slice(lt + 1, t.indexOf('>', lt) < 0 ? undefined : t.indexOf('>', lt)) : t;
    const addrSpec = unquote(spec.replace(/^@[^:]*:/, '')); // obs-route
    const at = addrSpec.lastIndexOf('@');
    const mailbox = at >= 0 ? addrSpec.slice(0, at) : addrSpec;
    const name = lt >= 0 ? decodeEncodedWords(unquote(t.slice(0, lt))) : '';
    if (addrSpec === '' && name === '') continue;
    return { mailbox, addrSpec, name };
  }
  return null;
}
