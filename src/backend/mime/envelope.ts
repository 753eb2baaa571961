/**
 * IMAP ENVELOPE (RFC 9051 §7.5.2, §9 `envelope`) from a raw RFC 5322 header block.
 *
 * Values are the header octets as stored, not RFC 2047-decoded (encoded words go out as they are); folding is
 * undone (RFC 5322 §2.2.3: line ends removed, white space kept; in Subject, as in Dovecot, each run of white space
 * becomes one space) and outer white space is trimmed. Strings holding 8-bit octets are returned as `Uint8Array` so the encoder sends them as literals,
 * byte for byte. A missing field is NIL; a present but empty Subject is "". Sender and Reply-To default to From
 * when absent or empty (RFC 9051 §7.5.2). Addresses follow RFC 5322 §3.4 with Dovecot's choices where the RFC
 * leaves room: a group is `(NIL NIL "name" NIL)` ... `(NIL NIL NIL NIL)`; a trailing comment names an addr-spec
 * without a display name; a missing domain is `MISSING_DOMAIN`, a missing local part `MISSING_MAILBOX`.
 */
import type { Address, Envelope, NString } from '../../protocol/types.ts';
import { findFields, latin1, type HeaderField } from './header.ts';

/** Host / mailbox placeholders for an address without them (Dovecot 2.3's spelling). */
export const MISSING_DOMAIN = 'MISSING_DOMAIN';
export const MISSING_MAILBOX = 'MISSING_MAILBOX';

/** The ENVELOPE of a header block (`fields` index `raw`, as parseHeaderBlock returns them). */
export function envelopeOf(raw: Uint8Array, fields: HeaderField[]): Envelope {
  const text = (name: string): string | null => {
    const f = findFields(fields, name)[0];
    return f ? unfoldOneLine(latin1(raw, f.valueStart, f.end)) : null;
  };
  const addresses = (name: string): Address[] | null => {
    const v = text(name);
    if (v === null) return null;
    const list = parseAddressList(v);
    return list.length ? list : null;
  };
  const from = addresses('from');
  return {
    date: nstr(text('date')),
    subject: nstr(forHumans(text('subject'))),
    from,
    sender: addresses('sender') ?? from,
    replyTo: addresses('reply-to') ?? from,
    to: addresses('to'),
    cc: addresses('cc'),
    bcc: addresses('bcc'),
    inReplyTo: nstr(text('in-reply-to')),
    messageId: nstr(text('message-id')),
  };
}

/**
 * Unfolding (RFC 5322 §2.2.3): a line end followed by white space is removed and the white space kept (Dovecot
 * 2.3 does the same for Date, In-Reply-To and Message-ID); stray line ends go; outer white space is trimmed.
 */
function unfoldOneLine(v: string): string {
  return v.replace(/[\r\n]+/g, '').replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Subject as Dovecot 2.3 sends it (`imap_append_string_for_humans`): each run of white space becomes one space. */
function forHumans(v: string | null): string | null {
  return v === null ? null : v.replace(/[ \t]+/g, ' ');
}

/** A latin1-decoded string (one char per octet) back to an NString: text when 7-bit, else the octets. */
function nstr(s: string | null): NString {
  if (s === null) return null;
  if (!/[^\x00-\x7f]/.test(s)) return s;
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

type Token =
  | { t: 'word'; v: string; quoted: boolean }
  | { t: 'comment'; v: string }
  | { t: 'special'; v: string };

/** RFC 5322 §3.2 lexical tokens: atoms (8-bit octets allowed), quoted strings, comments, domain literals, specials. */
function tokenize(s: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue; }
    if (c === '"' || c === '(' || c === '[') {
      const close = c === '"' ? '"' : c === '(' ? ')' : ']';
      let v = '';
      let depth = 1;
      for (i++; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length && c !== '[') { v += s[++i]; continue; }
        if (c === '(' && d === '(') depth++;
        else if (d === close && --depth === 0) { i++; break; }
        v += d;
      }
      if (c === '"') out.push({ t: 'word', v, quoted: true });
      else if (c === '(') out.push({ t: 'comment', v: v.trim() });
      else out.push({ t: 'word', v: `[${v}]`, quoted: false });
      continue;
    }
    if ('<>@,;:.'.includes(c)) { out.push({ t: 'special', v: c }); i++; continue; }
    let j = i;
    while (j < s.length && !' \t\r\n"()[<>@,;:.'.includes(s[j]!)) j++;
    if (j === i) j++; // a stray `]` or similar: one char, taken as an atom
    out.push({ t: 'word', v: s.slice(i, j), quoted: false });
    i = j;
  }
  return out;
}

/** RFC 5322 §3.4 `address-list` (with obs- forms: empty members, comments anywhere) to ENVELOPE addresses. */
export function parseAddressList(value: string): Address[] {
  const toks = tokenize(value);
  const out: Address[] = [];
  let i = 0;
  const isSpecial = (k: number, v: string) => toks[k]?.t === 'special' && toks[k]!.v === v;

  /** A phrase or local part: words and dots up to a special other than `.`; comments collected apart. */
  const phrase = (): { text: string; words: number; dotted: string } => {
    let text = '';
    let dotted = '';
    let words = 0;
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.t === 'comment') continue;
      if (t.t === 'special' && t.v !== '.') break;
      if (t.t === 'special') { text += '.'; dotted += '.'; continue; }
      text += (text ? ' ' : '') + t.v;
      dotted += t.v;
      words++;
    }
    return { text, words, dotted };
  };

  /** Domain after `@`: words, dots and domain literals, joined without spaces; the last comment is kept aside. */
  let lastComment: string | null = null;
  const domain = (): string => {
    let d = '';
    lastComment = null;
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.t === 'comment') { lastComment = t.v; continue; }
      if (t.t === 'special' && t.v !== '.') break;
      d += t.v;
    }
    return d;
  };

  /** One mailbox (name-addr or addr-spec); null when there is nothing but separators. */
  const mailbox = (): { addr: Address | null; group: string | null } => {
    const p = phrase();
    if (isSpecial(i, ':')) return { addr: null, group: p.text };
    if (isSpecial(i, '<')) {
      i++;
      let adl: string | null = null;
      if (isSpecial(i, '@')) {
        // RFC 5322 §4.4 obs-route: `@a,@b:` before the addr-spec.
        let route = '';
        for (; i < toks.length && !isSpecial(i, ':') && !isSpecial(i, '>'); i++) route += toks[i]!.v;
        if (isSpecial(i, ':')) { adl = route; i++; }
      }
      const local = phrase();
      let host: string | null = null;
      if (isSpecial(i, '@')) { i++; host = domain(); }
      while (i < toks.length && !isSpecial(i, '>')) i++;
      if (isSpecial(i, '>')) i++;
      while (toks[i]?.t === 'comment') i++;
      return {
        addr: address(p.text || null, adl, local.dotted || MISSING_MAILBOX, host || MISSING_DOMAIN),
        group: null,
      };
    }
    if (p.words === 0 && !isSpecial(i, '@')) return { addr: null, group: null };
    let host: string | null = null;
    let comment: string | null = null;
    if (isSpecial(i, '@')) {
      i++;
      host = domain();
      comment = lastComment;
    }
    return { addr: address(comment || null, null, p.dotted || MISSING_MAILBOX, host || MISSING_DOMAIN), group: null };
  };

  const skipToSeparator = (stops: string[]) => {
    while (i < toks.length && !stops.some((s) => isSpecial(i, s))) i++;
  };

  while (i < toks.length) {
    if (isSpecial(i, ',')) { i++; continue; }
    const start = i;
    const m = mailbox();
    if (m.group !== null) {
      i++; // ':'
      out.push(address(null, null, m.group, null));
      while (i < toks.length && !isSpecial(i, ';')) {
        if (isSpecial(i, ',')) { i++; continue; }
        const before = i;
        const member = mailbox();
        if (member.addr) out.push(member.addr);
        skipToSeparator([',', ';']);
        if (i === before) i++;
      }
      if (isSpecial(i, ';')) i++;
      out.push(address(null, null, null, null));
      continue;
    }
    if (m.addr) out.push(m.addr);
    skipToSeparator([',']);
    if (i === start) i++;
  }
  return out;
}

function address(name: string | null, adl: string | null, mailbox: string | null, host: string | null): Address {
  return { name: name === null ? null : nstr(name), adl: nstr(adl), mailbox: nstr(mailbox), host: nstr(host) };
}
