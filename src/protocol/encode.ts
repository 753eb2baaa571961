/**
 * The response encoder: Response AST (types.ts) -> the octets sent to the client (RFC 9051 §7, §9).
 *
 * Strings: a quoted string when short 7-bit text (or UTF-8 with UTF8=ACCEPT, RFC 6855 §3) without CR, LF or NUL,
 * else a literal `{n}` (RFC 9051 §4.3); `null` is NIL. Status texts never carry CR/LF. Mailbox names go out as
 * given: the session encodes them to modified UTF-7 first when UTF8=ACCEPT is not enabled.
 */
import type { ImapError } from './errors.ts';
import { formatSequence } from './sequence.ts';
import { OutputSink } from './sink.ts';
import type {
  Address, Envelope, FetchResponseItem, ListExtendedItem, Namespace, NString, Response, ResponseCode, Section,
  ThreadNode, Value,
} from './types.ts';

export interface EncodeOptions {
  /** UTF8=ACCEPT is enabled (RFC 6855 §3): UTF-8 may go in quoted strings. */
  utf8?: boolean;
}

/** Longest string (in octets) sent as a quoted string; longer ones are literals. */
const MAX_QUOTED = 1000;

const UTF8 = new TextEncoder();

/** Writes a response's text and literal octets into an OutputSink (./sink.ts). */
class Out {
  constructor(readonly sink: OutputSink, readonly utf8: boolean) {}

  put(s: string): this {
    this.sink.text(s);
    return this;
  }

  /** A non-negative integer (written as `String(n)` would). */
  num(n: number): this {
    this.sink.int(n);
    return this;
  }

  finish(): void {
    this.sink.byte(0x0d);
    this.sink.byte(0x0a);
  }

  /** RFC 9051 §9 `string` (quoted or literal). */
  string(s: string | Uint8Array): this {
    if (typeof s === 'string' && this.quoted7bit(s)) return this;
    const bytes = typeof s === 'string' ? UTF8.encode(s) : s;
    if (canQuote(bytes, this.utf8)) {
      const text = typeof s === 'string' ? s : new TextDecoder().decode(bytes);
      return this.put(`"${text.replace(/["\\]/g, '\\$&')}"`);
    }
    return this.literal(bytes);
  }

  /** The common case of `string`: 7-bit text without NUL, CR or LF, short enough to quote. False if not that. */
  private quoted7bit(s: string): boolean {
    const n = s.length;
    if (n > MAX_QUOTED) return false;
    let escapes = false;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c === 0x0a || c === 0x0d || c >= 0x80) return false;
      if (c === 0x22 || c === 0x5c) escapes = true;
    }
    if (escapes) {
      this.put(`"${s.replace(/["\\]/g, '\\$&')}"`);
    } else {
      this.sink.byte(0x22);
      this.sink.text(s);
      this.sink.byte(0x22);
    }
    return true;
  }

  nstring(s: NString): this {
    return s === null ? this.put('NIL') : this.string(s);
  }

  /** `{n}` literal, or `~{n}` literal8 (RFC 3516 §4.2) when binary and the data contains NUL. */
  literal(b: Uint8Array, binary = false): this {
    if (binary && b.includes(0)) this.sink.byte(0x7e);
    this.sink.byte(0x7b);
    this.sink.int(b.length);
    this.sink.text('}\r\n');
    this.sink.bytes(b);
    return this;
  }

  /** RFC 9051 §9 `astring`: an atom when it is one, else a string. */
  astring(s: string): this {
    return /^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c\x7d\x7e\]]+$/.test(s) && s.toUpperCase() !== 'NIL' ? this.put(s) : this.string(s);
  }

  list<T>(items: readonly T[], each: (item: T) => void): this {
    this.put('(');
    items.forEach((item, i) => {
      if (i > 0) this.put(' ');
      each(item);
    });
    return this.put(')');
  }

  value(v: Value): this {
    if (v === null) return this.put('NIL');
    if (typeof v === 'number') return this.put(String(v));
    if (typeof v === 'string') return this.string(v);
    if (v instanceof Uint8Array) return this.literal(v);
    if (Array.isArray(v)) return this.list(v, (x) => this.value(x));
    if ('atom' in v) return this.put(v.atom);
    if ('juxtaposed' in v) {
      for (const x of v.juxtaposed) this.value(x);
      return this;
    }
    return this.literal(v.literal8, true);
  }
}

function canQuote(b: Uint8Array, utf8: boolean): boolean {
  if (b.length > MAX_QUOTED) return false;
  for (const c of b) {
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
    if (c >= 0x80 && !utf8) return false;
  }
  if (!utf8) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Status and continuation text: one line, no CR/LF (RFC 9051 §9 `text`), never empty for statuses. */
function cleanText(text: string): string {
  return text.replace(/[\r\n\0]+/g, ' ');
}

function code(out: Out, c: ResponseCode | undefined): void {
  if (!c) return;
  out.put(`[${c.name}${c.data !== undefined && c.data !== '' ? ` ${cleanText(c.data).replace(/]/g, '')}` : ''}] `);
}

/** Encode one response as the octets to send, CRLF included. */
export function encodeResponse(r: Response, opts: EncodeOptions = {}): Uint8Array {
  const sink = new OutputSink();
  encodeResponseTo(r, sink, opts);
  return sink.takeOne();
}

/** Encode one response into `sink` (a session's output chunk), CRLF included. */
export function encodeResponseTo(r: Response, sink: OutputSink, opts: EncodeOptions = {}): void {
  const out = new Out(sink, !!opts.utf8);
  switch (r.type) {
    case 'continue':
      out.put(`+ ${cleanText(r.text)}`);
      break;
    case 'tagged':
      out.put(`${r.tag} ${r.status} `);
      code(out, r.code);
      out.put(cleanText(r.text) || r.status);
      break;
    case 'status':
      out.put(`* ${r.status} `);
      code(out, r.code);
      out.put(cleanText(r.text) || r.status);
      break;
    case 'CAPABILITY':
    case 'ENABLED':
      out.put(['*', r.type, ...r.capabilities].join(' '));
      break;
    case 'ID':
      out.put('* ID ');
      if (r.params === null) out.put('NIL');
      else out.list(r.params, ([k, v]) => out.string(k).put(' ').nstring(v));
      break;
    case 'NAMESPACE':
      out.put('* NAMESPACE ');
      namespaces(out, r.personal).put(' ');
      namespaces(out, r.other).put(' ');
      namespaces(out, r.shared);
      break;
    case 'LIST':
    case 'LSUB':
      out.put(`* ${r.type} (${r.attributes.join(' ')}) `);
      out.nstring(r.delimiter).put(' ');
      out.astring(r.mailbox);
      if (r.extended && r.extended.length > 0) {
        out.put(' ').list(r.extended, (x: ListExtendedItem) => out.string(x.tag).put(' ').value(x.value));
      }
      break;
    case 'STATUS':
      out.put('* STATUS ').astring(r.mailbox).put(' ');
      out.list(r.attributes, (a) => {
        out.put(`${a.item} `);
        if (a.item === 'MAILBOXID') out.put(`(${a.value})`);
        else out.put(String(a.value));
      });
      break;
    case 'FLAGS':
      out.put(`* FLAGS (${r.flags.join(' ')})`);
      break;
    case 'EXISTS':
    case 'RECENT':
      out.put(`* ${r.count} ${r.type}`);
      break;
    case 'EXPUNGE':
      out.put(`* ${r.seq} EXPUNGE`);
      break;
    case 'VANISHED':
      out.put(`* VANISHED ${r.earlier ? '(EARLIER) ' : ''}${formatSequence(r.uids)}`);
      break;
    case 'SEARCH':
    case 'SORT':
      out.put(`* ${r.type}${r.numbers.map((n) => ` ${n}`).join('')}`);
      if (r.modseq !== undefined) out.put(` (MODSEQ ${r.modseq})`);
      break;
    case 'ESEARCH':
      out.put('* ESEARCH');
      if (r.tag !== undefined) out.put(' (TAG ').string(r.tag).put(')');
      if (r.uid) out.put(' UID');
      if (r.min !== undefined) out.put(` MIN ${r.min}`);
      if (r.max !== undefined) out.put(` MAX ${r.max}`);
      if (r.all !== undefined && r.all.length > 0) out.put(` ALL ${formatSequence(r.all)}`);
      if (r.count !== undefined) out.put(` COUNT ${r.count}`);
      if (r.modseq !== undefined) out.put(` MODSEQ ${r.modseq}`);
      break;
    case 'THREAD':
      out.put('* THREAD');
      if (r.threads.length > 0) out.put(' ');
      for (const t of r.threads) thread(out, t);
      break;
    case 'FETCH':
      out.put('* ').num(r.seq).put(' FETCH (');
      for (let i = 0; i < r.items.length; i++) {
        if (i > 0) sink.byte(0x20);
        fetchItem(out, r.items[i]!);
      }
      out.put(')');
      break;
    case 'QUOTA':
      out.put('* QUOTA ').astring(r.root).put(' ');
      out.list(r.resources, (q) => out.put(`${q.name} ${q.usage} ${q.limit}`));
      break;
    case 'QUOTAROOT':
      out.put('* QUOTAROOT ').astring(r.mailbox);
      for (const root of r.roots) out.put(' ').astring(root);
      break;
    case 'untagged':
      out.put('*');
      for (const v of r.data) out.put(' ').value(v);
      break;
  }
  out.finish();
}

function namespaces(out: Out, list: Namespace[] | null): Out {
  if (list === null || list.length === 0) return out.put('NIL');
  return out.list(list, (ns) => out.put('(').string(ns.prefix).put(' ').nstring(ns.delimiter).put(')'));
}

/** RFC 5256 §4 `thread-list`: a chain of single children stays flat, branches become nested lists. */
function thread(out: Out, node: ThreadNode): void {
  out.put('(');
  let n: ThreadNode | undefined = node;
  let first = true;
  while (n) {
    if (n.id !== null) {
      if (!first) out.put(' ');
      out.put(String(n.id));
      first = false;
    }
    if (n.children.length === 1 && n.id !== null) {
      n = n.children[0];
    } else {
      if (n.children.length > 0 && !first) out.put(' ');
      for (const c of n.children) thread(out, c);
      n = undefined;
    }
  }
  out.put(')');
}

/** `BODY[section]` as octets per Section object: a FETCH names one section for every message it answers. */
const bodyPrefixes = new WeakMap<Section, Uint8Array>();
function bodyPrefix(s: Section): Uint8Array {
  let octets = bodyPrefixes.get(s);
  if (octets === undefined) bodyPrefixes.set(s, (octets = UTF8.encode(`BODY[${formatSection(s)}]`)));
  return octets;
}

/** RFC 9051 §9 `section` text, e.g. `1.2.HEADER.FIELDS (DATE FROM)`. */
export function formatSection(s: Section): string {
  const parts: string[] = [];
  if (s.part.length > 0) parts.push(s.part.join('.'));
  if (s.kind) parts.push(s.kind);
  let text = parts.join('.');
  if (s.fields) text += ` (${s.fields.join(' ')})`;
  return text;
}

function fetchItem(out: Out, item: FetchResponseItem): void {
  switch (item.type) {
    case 'FLAGS':
      out.put('FLAGS (');
      for (let i = 0; i < item.flags.length; i++) {
        if (i > 0) out.sink.byte(0x20);
        out.put(item.flags[i]!);
      }
      out.put(')');
      break;
    case 'UID':
      out.put('UID ').num(item.uid);
      break;
    case 'INTERNALDATE':
      out.put(`INTERNALDATE "${formatDateTime(item.date)}"`);
      break;
    case 'SAVEDATE':
      out.put(item.date === null ? 'SAVEDATE NIL' : `SAVEDATE "${formatDateTime(item.date)}"`);
      break;
    case 'RFC822.SIZE':
      out.put('RFC822.SIZE ').num(item.size);
      break;
    case 'ENVELOPE':
      out.put('ENVELOPE ');
      envelope(out, item.envelope);
      break;
    case 'BODYSTRUCTURE':
      out.put(item.extended ? 'BODYSTRUCTURE ' : 'BODY ').value(item.structure);
      break;
    case 'BODY':
      out.sink.bytes(bodyPrefix(item.section));
      if (item.origin !== undefined) out.put('<').num(item.origin).put('>');
      out.sink.byte(0x20);
      if (item.data === null) out.put('NIL');
      else out.literal(item.data);
      break;
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      out.put(`${item.type} `);
      if (item.data === null) out.put('NIL');
      else out.literal(item.data);
      break;
    case 'BINARY':
      out.put(`BINARY[${item.part.join('.')}]${item.origin !== undefined ? `<${item.origin}>` : ''} `);
      if (item.data === null) out.put('NIL');
      else out.literal(item.data, true);
      break;
    case 'BINARY.SIZE':
      out.put(`BINARY.SIZE[${item.part.join('.')}] ${item.size}`);
      break;
    case 'MODSEQ':
      out.put(`MODSEQ (${item.modseq})`);
      break;
    case 'EMAILID':
      out.put(`EMAILID (${item.id})`);
      break;
    case 'THREADID':
      out.put(item.id === null ? 'THREADID NIL' : `THREADID (${item.id})`);
      break;
    case 'PREVIEW':
      out.put('PREVIEW ').nstring(item.text);
      break;
  }
}

function envelope(out: Out, e: Envelope): void {
  out.put('(').nstring(e.date).put(' ').nstring(e.subject);
  for (const list of [e.from, e.sender, e.replyTo, e.to, e.cc, e.bcc]) {
    out.put(' ');
    if (list === null || list.length === 0) out.put('NIL');
    else {
      // RFC 9051 §9 `env-from = "(" 1*address ")"`: addresses follow each other without a space.
      out.put('(');
      for (const a of list as Address[]) {
        out.put('(').nstring(a.name).put(' ').nstring(a.adl).put(' ').nstring(a.mailbox).put(' ').nstring(a.host).put(')');
      }
      out.put(')');
    }
  }
  out.put(' ').nstring(e.inReplyTo).put(' ').nstring(e.messageId).put(')');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMAP_DATE_TIME = /^[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}$/;

/**
 * RFC 9051 §9 `date-time` without the quotes: `"17-Jul-1996 02:44:25 -0700"`, day padded with a space
 * (`date-day-fixed`). A string already in that form is kept (its zone too); a Date or ISO string goes out in UTC.
 */
export function formatDateTime(d: Date | string): string {
  if (typeof d === 'string' && IMAP_DATE_TIME.test(d)) return d;
  const date = typeof d === 'string' ? new Date(d) : d;
  if (Number.isNaN(date.getTime())) throw new RangeError(`Invalid date: ${String(d)}`);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(date.getUTCDate()).padStart(2, ' ')}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ` +
    `${p2(date.getUTCHours())}:${p2(date.getUTCMinutes())}:${p2(date.getUTCSeconds())} +0000`;
}

/** The status response for an error: tagged NO/BAD, or untagged BYE (or untagged BAD without a tag). */
export function encodeStatusError(tag: string | null, err: ImapError, opts?: EncodeOptions): Uint8Array {
  const c = err.code ? { code: err.code } : {};
  if (err.kind === 'BYE') return encodeResponse({ type: 'status', status: 'BYE', ...c, text: err.message }, opts);
  if (tag === null) return encodeResponse({ type: 'status', status: err.kind, ...c, text: err.message }, opts);
  return encodeResponse({ type: 'tagged', tag, status: err.kind, ...c, text: err.message }, opts);
}

/**
 * Builders for response codes with data (RFC 9051 §7.1, RFC 4315 UIDPLUS, RFC 7162 CONDSTORE, RFC 8474 OBJECTID),
 * producing the `{ name, data }` the ASTs and ImapError carry.
 */
export const codes = {
  uidValidity: (n: number): ResponseCode => ({ name: 'UIDVALIDITY', data: String(n) }),
  uidNext: (n: number): ResponseCode => ({ name: 'UIDNEXT', data: String(n) }),
  highestModseq: (n: number): ResponseCode => ({ name: 'HIGHESTMODSEQ', data: String(n) }),
  permanentFlags: (flags: readonly string[]): ResponseCode => ({ name: 'PERMANENTFLAGS', data: `(${flags.join(' ')})` }),
  capability: (caps: readonly string[]): ResponseCode => ({ name: 'CAPABILITY', data: caps.join(' ') }),
  /** RFC 4315 §3 `[COPYUID uidvalidity source-uids dest-uids]`, both lists in corresponding order. */
  copyUid: (uidValidity: number, source: readonly number[], dest: readonly number[]): ResponseCode => ({
    name: 'COPYUID',
    data: `${uidValidity} ${formatSequence(source)} ${formatSequence(dest)}`,
  }),
  /** RFC 4315 §3 `[APPENDUID uidvalidity uids]`. */
  appendUid: (uidValidity: number, uids: readonly number[]): ResponseCode => ({
    name: 'APPENDUID',
    data: `${uidValidity} ${formatSequence(uids)}`,
  }),
  /** RFC 7162 §3.1.3 `[MODIFIED set]`. */
  modified: (numbers: readonly number[]): ResponseCode => ({ name: 'MODIFIED', data: formatSequence(numbers) }),
  /** RFC 9051 §7.1 `[BADCHARSET (charsets)]`. */
  badCharset: (charsets: readonly string[]): ResponseCode => ({ name: 'BADCHARSET', data: `(${charsets.join(' ')})` }),
  /** RFC 8474 §4.1 `[MAILBOXID (id)]`. */
  mailboxId: (id: string): ResponseCode => ({ name: 'MAILBOXID', data: `(${id})` }),
  /** RFC 7889 `[APPENDLIMIT n]` is a capability; RFC 9051 has `[TOOBIG]` without data. */
  simple: (name: string): ResponseCode => ({ name }),
};
