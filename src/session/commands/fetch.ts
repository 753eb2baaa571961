/**
 * FETCH / UID FETCH (RFC 9051 §6.4.5, §6.4.9) over JMAP.
 *
 * Round-trip budget (DESIGN.md rule 8), per batch of up to 1,000 messages (50 when raw messages are needed and the
 * FETCH sets `\Seen`):
 * - one JMAP request of `Email/get` calls: metadata (FLAGS, INTERNALDATE, RFC822.SIZE, THREADID, blobId) for all,
 *   plus `headers` for the messages whose header block is not in the immutable-data cache (DESIGN.md rule 9,
 *   ../../cache/): BODY.PEEK[HEADER.FIELDS (...)] (any client's folder listing) and ENVELOPE are then answered
 *   from the header block; EMAILID needs nothing but a UID-store read (the id is in the UID map; a copy COPY
 *   re-imported shows its source's ids, ../objectid.ts);
 * - one `Email/get` of `preview` for PREVIEW (RFC 8970) not in the blob-derived cache (../blob-cache.ts);
 * - a blob download per message only when body content, BINARY or a BODYSTRUCTURE not in the cache is asked for,
 *   or when a header value is not printable 7-bit (JMAP may have replaced invalid octets, RFC 8621 §4.1.2.1, so
 *   such header blocks come from the raw message). Each blob is downloaded at most once per command. Raw messages
 *   are read in parts of consecutive messages of at most PART_BYTES (RFC 9404 `Blob/get`: one request per part
 *   where offered, ../raw-messages.ts); a part is answered while the next one is read.
 *
 * CONDSTORE (RFC 7162 §3.1.4): MODSEQ and CHANGEDSINCE (which implies MODSEQ) are CONDSTORE enabling commands;
 * they first read the mailbox's current mod-sequences through one UID-map sync (one `Email/changes`, plus an
 * `Email/get` of changed ids), so a keyword change made directly in JMAP counts. UID FETCH (CHANGEDSINCE n
 * VANISHED) sends `* VANISHED (EARLIER)` first (RFC 7162 §3.2.6, session/qresync.ts); BAD before ENABLE QRESYNC.
 *
 * Line ends: bytes taken from the stored message go out exactly as stored (BODY[] is the message byte for byte,
 * bare LF included, and its length is RFC822.SIZE); lines the gateway writes itself end in CRLF. BINARY is the
 * decoded content as decoded, line ends untouched (RFC 9051 §6.4.5, RFC 3516 §4.2: only the transfer encoding is
 * removed; Dovecot answers the same).
 */
import type { EmailMeta } from '../../backend/backend.ts';
import { bodyStructure } from '../../backend/mime/bodystructure.ts';
import { decodeTransfer, toCrlf } from '../../backend/mime/decode.ts';
import { envelopeOf } from '../../backend/mime/envelope.ts';
import { CR, LF, lineEndAt, parseHeaderBlock } from '../../backend/mime/header.ts';
import { applyPartial, extractSection, headerFieldsFromRaw, resolvePart } from '../../backend/mime/sections.ts';
import { parseStructure, type MimePart } from '../../backend/mime/structure.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, FetchItem, FetchResponseItem, Section } from '../../protocol/types.ts';
import { blobCache, headerSubsetCache, type BlobDerived } from '../blob-cache.ts';
import { MemoryMessageCache, type CachedMessage } from '../../cache/message-cache.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';
import type { MailboxView, MessageRef } from '../view.ts';
import { cachedMeta, KEYWORD_CACHE_MIN, keywordsOf, type AccountKeywords } from '../keyword-cache.ts';
import { noteKeywords } from '../known-keywords.ts';
import { forEachRaw, rawSourceOf } from '../raw-messages.ts';
import { enableCondstore, freshModseqs, guardHighestModseq, isCondstore, isQresync } from '../condstore.ts';
import { sendVanishedEarlier } from '../qresync.ts';
import { settleOwnWrite } from '../sync.ts';
import { originsOf } from '../objectid.ts';
import type { EmailOrigin } from '../../uidmap/store.ts';

/**
 * Messages per batch. Metadata and header blocks are small: a big batch makes one JMAP request (the client splits
 * it into maxObjectsInGet-sized calls within maxCallsInRequest). Raw messages are not: a small batch bounds memory.
 */
const BATCH_METADATA = 1000;
/** Keywords-only FETCH (KEYWORDS_ONLY): `Email/get` of `id` + `keywords`, several calls per request. */
const BATCH_KEYWORDS = 8000;
/** Raw messages of a FETCH that sets `\Seen`: read whole per batch (the others come in parts, PART_BYTES). */
const BATCH_WITH_BLOBS = 50;
/**
 * Raw-message octets per part of a batch (a part is one `Blob/get` request where the store offers RFC 9404; a
 * single bigger message is a part alone). Memory bound of a FETCH of bodies per session: three parts of raw
 * messages (the one being written, the next one being read, the next batch's first one), i.e. 3 x
 * max(PART_BYTES, largest message), plus the metadata of two batches.
 */
export const PART_BYTES = 4 << 20;
/**
 * The first batch of a FETCH starts with smaller parts, doubling up to PART_BYTES: the first responses go out after
 * a small read (a store without `Blob/get` downloads a part one message at a time).
 */
const FIRST_PART_BYTES = PART_BYTES >> 4;
/** FETCH items answered from the view and the keywords alone (no size, date, blob or thread id of the email). */
const KEYWORDS_ONLY: ReadonlySet<FetchItem['type']> = new Set<FetchItem['type']>(['UID', 'EMAILID', 'MODSEQ', 'FLAGS']);
/** RFC 8970 §3.3: a preview MUST NOT exceed 256 characters. */
const MAX_PREVIEW_CHARS = 256;

type Need = {
  meta: boolean; headers: boolean; blob: boolean; setsSeen: boolean;
  envelope: boolean; structure: boolean; preview: boolean;
};
type HeaderList = Array<{ name: string; value: string }>;

export async function fetchCommand(s: Session, c: CommandOf<'FETCH'>): Promise<HandlerResult> {
  if (c.vanished && !isQresync(s)) throw ImapError.bad('VANISHED needs ENABLE QRESYNC first (RFC 7162 §3.2.6)');
  const view = s.selected!;
  let items = c.uid && !c.items.some((i) => i.type === 'UID') ? [{ type: 'UID' } as FetchItem, ...c.items] : c.items;
  // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
  if (c.changedSince !== undefined && !items.some((i) => i.type === 'MODSEQ')) items = [...items, { type: 'MODSEQ' }];
  const need = needsOf(items, view.readOnly);
  let refs = view.resolve(c.sequence, c.uid);
  if (items.some((i) => i.type === 'MODSEQ')) {
    if (!(await enableCondstore(s))) await freshModseqs(s); // enabling already read them
    const since = c.changedSince;
    if (since !== undefined) refs = refs.filter((r) => view.modseqOf(r.uid) > since);
    if (c.vanished) await sendVanishedEarlier(s, view, c.sequence, since!); // RFC 7162 §3.2.6: before any FETCH
  }
  // Bodies without \Seen come in parts of PART_BYTES (prepareBatch): a big batch holds no more raw messages.
  const batch = need.blob || need.structure ? (need.setsSeen ? BATCH_WITH_BLOBS : BATCH_METADATA)
    : items.every((i) => KEYWORDS_ONLY.has(i.type)) ? BATCH_KEYWORDS : BATCH_METADATA;
  const keywords = need.meta && refs.length >= KEYWORD_CACHE_MIN ? keywordsOf(s.account!, s.config.messageCache?.keywords) : null;
  if (keywords) await keywords.refresh(s.account!.backend);
  const plan = planOf(s, items, need);
  const prepare = (i: number) => prepareBatch(s, view, refs.slice(i, i + batch), plan, keywords, i === 0 ? FIRST_PART_BYTES : PART_BYTES);
  // One batch ahead, unless the fetch sets \Seen (stored only for data about to be sent): the next batch's JMAP
  // reads overlap this one's encoding and writing. At most two batches in memory.
  const ahead = !need.setsSeen;
  let next = refs.length > 0 ? prepare(0) : null;
  for (let i = 0; next; i += batch) {
    const emit = await next;
    next = i + batch < refs.length && ahead ? prepare(i + batch) : null;
    next?.catch(() => undefined); // awaited (and its error reported) on the next turn; never unhandled
    await emit();
    if (!ahead && i + batch < refs.length) next = prepare(i + batch);
  }
}

function needsOf(items: FetchItem[], readOnly: boolean): Need {
  const need: Need = { meta: false, headers: false, blob: false, setsSeen: false, envelope: false, structure: false, preview: false };
  for (const item of items) {
    switch (item.type) {
      case 'UID':
      case 'EMAILID':
      case 'MODSEQ':
        break;
      case 'FLAGS':
      case 'INTERNALDATE':
      case 'RFC822.SIZE':
      case 'THREADID':
        need.meta = true;
        break;
      case 'ENVELOPE':
        need.envelope = need.meta = true;
        break;
      case 'BODYSTRUCTURE':
        need.structure = need.meta = true;
        break;
      case 'PREVIEW':
        need.preview = need.meta = true;
        break;
      case 'BODY':
        if (isHeaderFieldsOnly(item.section)) need.headers = true;
        else need.blob = true;
        if (!item.peek) need.setsSeen = !readOnly;
        break;
      case 'BINARY':
        need.blob = true;
        if (!item.peek) need.setsSeen = !readOnly;
        break;
      case 'BINARY.SIZE':
      case 'RFC822.HEADER':
        need.blob = true;
        break;
      case 'RFC822':
      case 'RFC822.TEXT':
        need.blob = true;
        need.setsSeen = !readOnly;
        break;
      default:
        throw ImapError.no(`FETCH ${item.type} is not supported by this server yet`, 'CANNOT');
    }
  }
  if (need.setsSeen || need.blob || need.headers) need.meta = true;
  return need;
}

function isHeaderFieldsOnly(section: Section): boolean {
  return section.part.length === 0 && (section.kind === 'HEADER.FIELDS' || section.kind === 'HEADER.FIELDS.NOT');
}

/** One message's data for building its response items. */
interface Msg {
  ref: MessageRef;
  meta: EmailMeta | undefined;
  raw: Uint8Array | undefined;
  root: MimePart | undefined;
  /** The message's header block (from the immutable-data cache, JMAP `headers`, or the raw message). */
  header: Uint8Array | undefined;
  derived: BlobDerived;
  /** Decoded BINARY data per part path (`1.2`), computed before anything is sent (UNKNOWN-CTE fails first). */
  binary: Map<string, Uint8Array> | undefined;
  /** RFC 8474 §5.1: the ids a copy re-imported by COPY keeps from its source (../objectid.ts). */
  origin?: EmailOrigin;
}

/** Used when the gateway was configured without a message cache (e.g. a bare workerd isolate). */
const fallbackMessageCache = new MemoryMessageCache();

/** Reads everything one batch needs (JMAP, caches, blobs, implicit \Seen); the returned function sends its FETCH responses. */
async function prepareBatch(s: Session, view: MailboxView, refs: MessageRef[], plan: Plan, keywords: AccountKeywords | null, firstPart: number): Promise<() => Promise<void>> {
  const { items, need } = plan;
  const backend = s.account!.backend;
  const accountKey = s.account!.accountKey;
  const cache = s.config.messageCache ?? fallbackMessageCache;
  const ids = refs.map((r) => r.emailId);
  // Header blocks are immutable (RFC 8621 §4.1): from the cache, else from JMAP `headers` in the same request as
  // the metadata, else from the raw message.
  const wantBlock = need.headers || (need.envelope && !need.blob);
  // FLAGS (with UID, MODSEQ, EMAILID) needs the keywords alone: the keyword cache answers without the message cache.
  const flagsOnly = items.every((i) => KEYWORDS_ONLY.has(i.type));
  const keywordsOnly = keywords !== null && flagsOnly;
  const cached = wantBlock || (keywords && !keywordsOnly) ? await cache.get(accountKey, ids) : new Map<string, CachedMessage>();
  // Cached immutable facts + cached keywords = the whole EmailMeta FETCH needs (mailboxIds are the UID map's).
  const known: EmailMeta[] = [];
  if (keywords) {
    for (const id of ids) {
      const c = cached.get(id);
      const k = (c || keywordsOnly) && keywords.get(id);
      if (k && c) known.push(cachedMeta(c, k));
      else if (k) known.push({ id, blobId: '', threadId: '', mailboxIds: [], keywords: [...k], size: 0, receivedAt: '' }); // never read (KEYWORDS_ONLY)
    }
  }
  const ask = known.length === ids.length ? [] : known.length > 0 ? ids.filter((id) => keywords!.get(id) === undefined || (!keywordsOnly && !cached.has(id))) : ids;
  const headerIds = wantBlock && s.config.headerSource !== 'raw' ? ask.filter((id) => !cached.has(id)) : [];
  const got = need.meta && ask.length > 0
    ? await backend.getEmailsWithHeaders(ask, headerIds, { keywordsOnly: flagsOnly })
    : { metas: [] as EmailMeta[], headers: new Map<string, HeaderList>() };
  if (keywords && 'state' in got) keywords.record(got.state, got.metas);
  const metas = known.length > 0 && got.metas.length > 0 ? [...known, ...got.metas] : known.length > 0 ? known : got.metas;
  const headerLists = got.headers;
  const metaById = new Map<string, EmailMeta>();
  for (const m of metas) metaById.set(m.id, m);
  const present = need.meta ? refs.filter((r) => metaById.has(r.emailId)) : refs;
  // Only ENVELOPE, BODYSTRUCTURE / BODY and PREVIEW use the blob-derived cache: a folder listing skips it.
  const derived = new Map<string, BlobDerived>();
  if (plan.derives) {
    for (const r of present) {
      const m = metaById.get(r.emailId);
      derived.set(r.emailId, (m && blobCache.get(accountKey, m.blobId)) || {});
    }
  }
  const derivedOf = (id: string): BlobDerived => derived.get(id) ?? NOTHING_DERIVED;
  // Header blocks: the cached ones, and those built from JMAP `headers` (`blocks`); those cut from raw messages live
  // with their part (completePart).
  const blocks = new Map<string, Uint8Array>();
  const blockOf = (id: string): Uint8Array | undefined => blocks.get(id) ?? cached.get(id)?.header;
  const fresh: CachedMessage[] = [];
  for (const [id, list] of headerLists) {
    const block = blockFromList(list);
    const meta = metaById.get(id);
    if (!block || !meta) continue;
    blocks.set(id, block);
    fresh.push(cachedOf(meta, block));
  }

  const previewMiss = need.preview ? present.filter((r) => derivedOf(r.emailId).preview === undefined).map((r) => r.emailId) : [];
  const previews = previewMiss.length ? await backend.getPreviews(previewMiss) : new Map<string, string>();

  const wanted = (r: MessageRef): boolean => need.blob || (need.structure && !derivedOf(r.emailId).bodystructure) || (wantBlock && !blockOf(r.emailId));
  const b: Batch = { s, plan, metaById, blockOf, derivedOf, previews, fresh };
  if (need.setsSeen) {
    // \Seen is stored before the data is sent (RFC 9051 §6.4.5), and only for data in hand: the batch as one part.
    const blobRefs = present.filter(wanted);
    const msgs = await completePart(b, present, blobRefs.length > 0 ? await downloadAll(s, blobRefs, metaById) : NO_BLOBS);
    const seen = await markSeen(s, present, metaById);
    return () => emitBatch(s, view, msgs, plan, seen);
  }
  const parts = partsOf(present, wanted, metaById, firstPart);
  if (parts.length <= 1) { // metadata only, or a few bodies: all read now, one batch ahead
    const blobRefs = parts[0]?.blobs ?? [];
    const msgs = await completePart(b, present, blobRefs.length > 0 ? await downloadAll(s, blobRefs, metaById) : NO_BLOBS);
    return () => emitBatch(s, view, msgs, plan, NO_SEEN);
  }
  const read = (k: number): Promise<Msg[]> => {
    const { refs: partRefs, blobs } = parts[k]!;
    const p = (blobs.length > 0 ? downloadAll(s, blobs, metaById) : Promise.resolve(new Map<string, Uint8Array>())).then((raw) => completePart(b, partRefs, raw));
    p.catch(() => undefined); // awaited (and its error reported) when its turn comes; never unhandled
    return p;
  };
  // The first part is read now (with the batch's metadata, one batch ahead); each later one while the one before it
  // is written: at most PART_BYTES being written and PART_BYTES being read (see PART_BYTES).
  let next: Promise<Msg[]> | null = read(0);
  return async () => {
    for (let k = 0; next; k++) {
      const msgs = await next;
      next = k + 1 < parts.length ? read(k + 1) : null;
      await emitBatch(s, view, msgs, plan, NO_SEEN);
    }
  };
}

/** What prepareBatch read for a batch, shared by its parts. */
interface Batch {
  s: Session;
  plan: Plan;
  metaById: Map<string, EmailMeta>;
  /** A message's header block: cached, or built from JMAP `headers`. */
  blockOf: (id: string) => Uint8Array | undefined;
  derivedOf: (id: string) => BlobDerived;
  previews: Map<string, string>;
  /** Header blocks not yet written to the message cache (the next part writes them). */
  fresh: CachedMessage[];
}

/**
 * Consecutive runs of `refs` whose raw messages (those `wanted`) add up to at most `first` octets for the first
 * run, twice that for the next, ... up to PART_BYTES (a single bigger message is a run alone).
 */
function partsOf(refs: MessageRef[], wanted: (r: MessageRef) => boolean, metaById: Map<string, EmailMeta>, first: number): Array<{ refs: MessageRef[]; blobs: MessageRef[] }> {
  const parts: Array<{ refs: MessageRef[]; blobs: MessageRef[] }> = [];
  let cur: { refs: MessageRef[]; blobs: MessageRef[] } = { refs: [], blobs: [] };
  let bytes = 0;
  let limit = Math.min(first, PART_BYTES);
  for (const r of refs) {
    const size = wanted(r) ? metaById.get(r.emailId)?.size ?? 0 : -1;
    if (size >= 0 && cur.blobs.length > 0 && bytes + size > limit) {
      parts.push(cur);
      cur = { refs: [], blobs: [] };
      bytes = 0;
      limit = Math.min(limit * 2, PART_BYTES);
    }
    cur.refs.push(r);
    if (size >= 0) { cur.blobs.push(r); bytes += size; }
  }
  if (cur.refs.length > 0) parts.push(cur);
  return parts;
}

/** The messages of one part with their raw messages: header blocks cut and cached, derived data, BINARY, ids. */
async function completePart(b: Batch, refs: MessageRef[], blobs: ReadonlyMap<string, Uint8Array>): Promise<Msg[]> {
  const { s, plan, metaById } = b;
  const { need } = plan;
  const accountKey = s.account!.accountKey;
  const fresh = b.fresh.splice(0);
  const msgs: Msg[] = [];
  for (const ref of refs) {
    const raw = blobs.get(ref.emailId);
    const m: Msg = { ref, meta: metaById.get(ref.emailId), raw, root: undefined, header: b.blockOf(ref.emailId), derived: b.derivedOf(ref.emailId), binary: undefined };
    if (raw) lazyRoot(m, raw);
    if (raw && !m.header) {
      // = the MIME root's bodyStart, without parsing the structure. Not kept past the part: it holds the whole raw
      // message (the cache gets a copy).
      const block = raw.subarray(0, headerEnd(raw));
      m.header = block;
      if (m.meta) fresh.push(cachedOf(m.meta, block.slice()));
    }
    msgs.push(m);
  }
  if (fresh.length > 0) await (s.config.messageCache ?? fallbackMessageCache).put(accountKey, fresh);
  if (plan.derives || plan.binary.length > 0) {
    for (const m of msgs) {
      if (plan.derives && derive(m, need, b.previews.get(m.ref.emailId)) && m.meta) blobCache.put(accountKey, m.meta.blobId, m.derived);
      for (const item of plan.binary) binaryOf(m, item.part);
    }
  }
  if (plan.ids) {
    const origins = await originsOf(s, msgs.map((m) => m.ref.emailId));
    for (const m of msgs) m.origin = origins.get(m.ref.emailId);
  }
  return msgs;
}

/**
 * End of the top-level header block: after the first empty line (CRLF or bare LF), else the end of the message.
 * The same offset as parseHeaderBlock(raw, 0, raw.length).end (../../backend/mime/header.ts), which the MIME
 * root's bodyStart is, without reading the fields.
 */
export function headerEnd(raw: Uint8Array): number {
  for (let p = 0; p < raw.length;) {
    if (raw[p] === LF || (raw[p] === CR && p + 1 < raw.length && raw[p + 1] === LF)) return lineEndAt(raw, p, raw.length);
    p = lineEndAt(raw, p, raw.length);
  }
  return raw.length;
}

async function emitBatch(s: Session, view: MailboxView, msgs: Msg[], plan: Plan, seen: ReadonlySet<number>): Promise<void> {
  const { items, need } = plan;
  const condstore = seen.size > 0 && isCondstore(s);
  const qresync = seen.size > 0 && isQresync(s);
  for (const m of msgs) {
    const out: FetchResponseItem[] = [];
    for (let i = 0; i < items.length; i++) respond(view, m, items[i]!, plan.scopes[i]!, out);
    // A few messages' keywords: what a later STORE may predict from (known-keywords.ts; big FETCHes fill the cache).
    if (plan.flags && m.meta && msgs.length < KEYWORD_CACHE_MIN) noteKeywords(s, m.ref.emailId, m.meta.keywords);
    if (need.setsSeen && !plan.flags && m.meta) {
      out.push({ type: 'FLAGS', flags: view.flagsOf(m.ref.uid, m.meta.keywords) }); // RFC 9051 §6.4.5: \Seen was set
    }
    if (seen.size > 0 && seen.has(m.ref.uid)) {
      if (condstore && !plan.modseq) out.push({ type: 'MODSEQ', modseq: view.modseqOf(m.ref.uid) }); // RFC 7162 §3.1: a flag change carries MODSEQ
      // RFC 7162 §3.2.4: a FETCH that set \Seen carries UID under QRESYNC (a UID FETCH has it already).
      if (qresync && !out.some((i) => i.type === 'UID')) out.unshift({ type: 'UID', uid: m.ref.uid });
    }
    for (const i of out) if (i.type === 'FLAGS') view.noteShown(m.ref.uid, i.flags); // not repeated at a catch-up (view.ts)
    const written = s.sendSoon({ type: 'FETCH', seq: m.ref.seq, items: out });
    if (written) await written;
  }
}

/** What one FETCH command asks, worked out once for all its messages (not per message: docs/bench/profile.md). */
interface Plan {
  items: FetchItem[];
  need: Need;
  /** The items include FLAGS / MODSEQ / EMAILID or THREADID. */
  flags: boolean;
  modseq: boolean;
  ids: boolean;
  /** ENVELOPE, BODYSTRUCTURE / BODY or PREVIEW: the blob-derived cache is used. */
  derives: boolean;
  /** The BINARY and BINARY.SIZE items (decoded before anything is sent). */
  binary: Array<Extract<FetchItem, { type: 'BINARY' | 'BINARY.SIZE' }>>;
  /** Per item: the header subset cache scope of a BODY[HEADER.FIELDS (...)] item, else ''. */
  scopes: string[];
}

function planOf(s: Session, items: FetchItem[], need: Need): Plan {
  const accountKey = s.account!.accountKey;
  const has = (type: FetchItem['type']): boolean => items.some((i) => i.type === type);
  return {
    items,
    need,
    flags: has('FLAGS'),
    modseq: has('MODSEQ'),
    ids: has('EMAILID') || has('THREADID'),
    derives: need.envelope || need.structure || need.preview,
    binary: items.filter((i): i is Plan['binary'][number] => i.type === 'BINARY' || i.type === 'BINARY.SIZE'),
    scopes: items.map((i) => i.type === 'BODY' && isHeaderFieldsOnly(i.section)
      ? headerSubsetCache.scope(accountKey, i.section.fields ?? [], i.section.kind === 'HEADER.FIELDS.NOT')
      : ''),
  };
}

const NO_BLOBS: ReadonlyMap<string, Uint8Array> = new Map();
const NO_SEEN: ReadonlySet<number> = new Set();

/** The blob-derived data of a message when the command needs none (never written: frozen). */
const NOTHING_DERIVED: BlobDerived = Object.freeze({});

/** `m.root` parsed on first use: a whole-message BODY[] (a full download) never needs the MIME structure. */
function lazyRoot(m: Msg, raw: Uint8Array): void {
  let root: MimePart | undefined;
  Object.defineProperty(m, 'root', { get: () => (root ??= parseStructure(raw)), enumerable: true });
}

function cachedOf(meta: EmailMeta, header: Uint8Array): CachedMessage {
  return { emailId: meta.id, blobId: meta.blobId, threadId: meta.threadId, size: meta.size, receivedAt: meta.receivedAt, header };
}

/** Fills what the command needs and the cache lacks (ENVELOPE, BODYSTRUCTURE / BODY, PREVIEW); true if any. */
function derive(m: Msg, need: Need, preview: string | undefined): boolean {
  const d = m.derived;
  const before = Object.keys(d).length;
  if (need.envelope && !d.envelope) {
    if (m.raw && m.root) d.envelope = envelopeOf(m.raw, m.root.fields);
    else if (m.header) d.envelope = envelopeOf(m.header, parseHeaderBlock(m.header, 0, m.header.length).fields);
  }
  if (need.structure && (!d.bodystructure || !d.body) && m.raw && m.root) {
    d.bodystructure = bodyStructure(m.raw, m.root, true);
    d.body = bodyStructure(m.raw, m.root, false);
  }
  if (need.preview && d.preview === undefined && preview !== undefined) d.preview = [...preview].slice(0, MAX_PREVIEW_CHARS).join('');
  return Object.keys(d).length > before;
}

/**
 * BINARY[part] content (RFC 3516 §4.2, RFC 9051 §6.4.5): a leaf part's body with its Content-Transfer-Encoding
 * removed; BINARY[] and non-leaf parts as stored; a part that does not exist
 * is empty (as Dovecot answers). An unknown encoding fails the command with NO [UNKNOWN-CTE].
 */
function binaryOf(m: Msg, path: number[]): Uint8Array {
  const key = path.join('.');
  const hit = m.binary?.get(key);
  if (hit) return hit;
  let data: Uint8Array = new Uint8Array(0);
  if (m.raw && m.root) {
    const part = path.length ? resolvePart(m.root, path) : m.root;
    if (!path.length) data = m.raw;
    else if (part && (part.contentType.type === 'multipart' || part.message)) data = m.raw.subarray(part.bodyStart, part.bodyEnd);
    else if (part) {
      const decoded = decodeTransfer(m.raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
      if (!decoded) throw ImapError.no(`Unknown Content-Transfer-Encoding in part ${key}`, 'UNKNOWN-CTE');
      data = decoded;
    }
  }
  (m.binary ??= new Map()).set(key, data);
  return data;
}

/**
 * Implicit `\Seen` of a non-PEEK body fetch (RFC 9051 §6.4.5), stored before the data is sent; the changed
 * messages get a new mod-sequence (RFC 7162 §3.1). Returns their UIDs.
 */
async function markSeen(s: Session, refs: MessageRef[], metaById: Map<string, EmailMeta>): Promise<Set<number>> {
  const unseen = refs.filter((r) => { const m = metaById.get(r.emailId); return !!m && !m.keywords.includes('$seen'); });
  if (unseen.length === 0) return new Set();
  const states = await s.account!.backend.updateKeywords(unseen.map((r) => ({ id: r.emailId, add: ['$seen'], remove: [] })));
  for (const r of unseen) { const m = metaById.get(r.emailId)!; m.keywords = [...m.keywords, '$seen']; }
  const view = s.selected!;
  // Every written email is touched here: the map may move past the write (no second bump, sync.ts settleOwnWrite).
  const modseq = await settleOwnWrite(s.config.uidStore, s.account!.accountKey, view.mailboxId, unseen.map((r) => r.uid), states, view);
  view.setModseqs(new Map(unseen.map((r) => [r.uid, modseq] as const)), modseq);
  await guardHighestModseq(s); // RFC 7162 §3.2 / §6: as STORE, MODSEQ data below an unreported expunge's
  return new Set(unseen.map((r) => r.uid));
}

/** The raw messages of `refs` by email id (the raw-message cache, then RFC 9404 `Blob/get` groups where offered: ../raw-messages.ts). */
async function downloadAll(s: Session, refs: MessageRef[], metaById: Map<string, EmailMeta>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const metas = refs.map((r) => metaById.get(r.emailId)).filter((m): m is EmailMeta => !!m);
  await forEachRaw(rawSourceOf(s), metas, (m, raw) => { out.set(m.id, raw); });
  return out;
}

/** The octets of a body section of a downloaded message (null without one). */
function sectionOf(m: Msg, spec: Section): Uint8Array | null {
  const raw = m.raw;
  if (raw && spec.part.length === 0 && spec.kind === undefined) return raw; // BODY[]: the whole message, as stored
  const root = m.root; // lazy (lazyRoot): parsed only here
  return raw && root ? extractSection(raw, root, sectionSpec(spec)) ?? placeholderPart(root, spec) : null;
}

// No closure per call: respond runs once per item per message (100,000 times for a FLAGS FETCH at 100k).
/** Appends the response item(s) answering `item` to `out`; `scope`: the item's header subset scope (planOf). */
function respond(view: MailboxView, m: Msg, item: FetchItem, scope: string, out: FetchResponseItem[]): void {
  const { ref, meta, raw } = m;
  switch (item.type) {
    case 'UID':
      out.push({ type: 'UID', uid: ref.uid });
      return;
    case 'MODSEQ': // RFC 7162 §3.1.4.2
      out.push({ type: 'MODSEQ', modseq: view.modseqOf(ref.uid) });
      return;
    case 'FLAGS':
      out.push({ type: 'FLAGS', flags: view.flagsOf(ref.uid, meta!.keywords) });
      return;
    case 'INTERNALDATE':
      out.push({ type: 'INTERNALDATE', date: meta!.receivedAt });
      return;
    case 'RFC822.SIZE':
      out.push({ type: 'RFC822.SIZE', size: meta!.size });
      return;
    case 'EMAILID':
      out.push({ type: 'EMAILID', id: m.origin?.emailId ?? ref.emailId }); // RFC 8474 §5.1
      return;
    case 'THREADID':
      out.push({ type: 'THREADID', id: m.origin?.threadId ?? (meta!.threadId || null) });
      return;
    case 'ENVELOPE':
      if (m.derived.envelope) out.push({ type: 'ENVELOPE', envelope: m.derived.envelope });
      return;
    case 'BODYSTRUCTURE': {
      const structure = item.extended ? m.derived.bodystructure : m.derived.body;
      if (structure !== undefined) out.push({ type: 'BODYSTRUCTURE', extended: item.extended, structure });
      return;
    }
    case 'PREVIEW':
      // RFC 8970 §3.2: never NIL without LAZY; "" when no preview can be made. JMAP's is always at hand.
      out.push({ type: 'PREVIEW', text: m.derived.preview ?? '' });
      return;
    case 'RFC822':
      out.push({ type: 'RFC822', data: raw ?? null });
      return;
    case 'RFC822.HEADER':
      out.push({ type: 'RFC822.HEADER', data: sectionOf(m, { part: [], kind: 'HEADER' }) });
      return;
    case 'RFC822.TEXT':
      out.push({ type: 'RFC822.TEXT', data: sectionOf(m, { part: [], kind: 'TEXT' }) });
      return;
    case 'BODY': {
      const full = scope ? headerFields(m, item.section, scope) : sectionOf(m, item.section);
      if (!item.partial) out.push({ type: 'BODY', section: item.section, data: full });
      else out.push({ type: 'BODY', section: item.section, origin: item.partial.offset, data: full && applyPartial(full, item.partial.offset, item.partial.length) });
      return;
    }
    case 'BINARY': {
      const full = binaryOf(m, item.part);
      const data = item.partial ? applyPartial(full, item.partial.offset, item.partial.length) : full;
      out.push({ type: 'BINARY', part: item.part, ...(item.partial ? { origin: item.partial.offset } : {}), data });
      return;
    }
    case 'BINARY.SIZE':
      out.push({ type: 'BINARY.SIZE', part: item.part, size: binaryOf(m, item.part).length });
      return;
  }
}

/**
 * A multipart without any part is shown in BODYSTRUCTURE with one empty text/plain part (RFC 9051 §9 requires at
 * least one); BODY[1] and BODY[1.MIME] of it are then empty strings, not NIL (as Dovecot answers).
 */
function placeholderPart(root: MimePart, spec: Section): Uint8Array | null {
  const empty = root.contentType.type === 'multipart' && root.children.length === 0;
  return empty && spec.part.length === 1 && spec.part[0] === 1 && (spec.kind === undefined || spec.kind === 'MIME') ? new Uint8Array(0) : null;
}

function sectionSpec(section: Section): Parameters<typeof extractSection>[2] {
  return { part: section.part, ...(section.kind ? { kind: section.kind } : {}), ...(section.fields ? { fields: section.fields } : {}) };
}

const encoder = new TextEncoder();

/**
 * A header block rebuilt from JMAP's `headers` (RFC 8621 §4.1.3: names as written, Raw values in message order),
 * each field `Name:value` CRLF, folds as CRLF, then the empty line. Null when a value is not printable 7-bit: the
 * server may have replaced invalid octets (RFC 8621 §4.1.2.1), so such a block must come from the raw message.
 */
function blockFromList(headers: HeaderList): Uint8Array | null {
  let text = '';
  for (const h of headers) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(h.name) || !/^(?:[\t\x20-\x7e]|\r?\n)*$/.test(h.value)) return null;
    text += `${h.name}:${h.value.replace(/\r?\n/g, '\r\n')}\r\n`;
  }
  return encoder.encode(text + '\r\n');
}

/**
 * BODY[HEADER.FIELDS (...)] / .NOT of the whole message (RFC 9051 §6.4.5): the matching fields of the header
 * block in message order, original octets, then the empty line. A subset the gateway assembles, so its line ends
 * are CRLF even for a message stored with bare LF (as Dovecot answers).
 */
function headerFields(m: Msg, section: Section, scope: string): Uint8Array | null {
  const source = m.raw ?? m.header;
  if (!source) return null;
  const hit = m.meta ? headerSubsetCache.get(scope, m.meta.blobId) : undefined;
  if (hit) return hit;
  const subset = toCrlf(headerFieldsFromRaw(source, section.fields ?? [], section.kind === 'HEADER.FIELDS.NOT'));
  if (m.meta) headerSubsetCache.put(scope, m.meta.blobId, subset);
  return subset;
}
