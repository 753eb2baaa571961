/**
 * The search engine behind SEARCH, SORT and THREAD (RFC 9051 §6.4.4, RFC 5256 §3): decides every key exactly in
 * the gateway (DESIGN.md rule 11: JMAP string matching is server-defined, RFC 8621 §4.4.1), loading message data
 * tier by tier for the messages still undecided (see evaluate.ts).
 *
 * Round trips (DESIGN.md rule 8), for a view of n messages:
 * - sequence / UID / `$` / `\Deleted` keys: none;
 * - flags alone (no other metadata key): the keywords from the account's keyword cache brought to the store's
 *   state by one `Email/changes` (meta.ts `keywordsOfIds`, from 100 messages on; FETCH FLAGS does the same),
 *   else one `Email/get` of `id` + `keywords`;
 * - flags with sizes or internal dates: one `Email/get` of the metadata of the undecided messages (chunked by the client
 *   under `maxObjectsInGet` / `maxCallsInRequest`: one HTTP request up to 16,000 messages with common limits); from
 *   100 messages on, keywords from the account's keyword cache and the immutable rest from the message cache
 *   (meta.ts): one `Email/changes` when all are cached;
 * - header keys and SENT*: header blocks from the immutable message cache (../../cache/, filled by any folder
 *   listing), else one `Email/get` of the named raw header values per `HEADER_BATCH` messages; a message whose
 *   values are not 7-bit is read from its raw message instead (JMAP may have replaced octets, RFC 8621 §4.1.2.1);
 * - BODY / TEXT: plus the raw message of each still-undecided message: RFC 9404 `Blob/get` groups where the store
 *   offers them, else one download each (../raw-messages.ts); each message is decided as it arrives and its text
 *   dropped, so memory stays bounded. In the tenant's index mode (session/policy.ts `searchText`), instead one
 *   `Email/query {inMailbox, body|text}` per distinct BODY/TEXT key, in parallel, and no download: the store's
 *   matching is the answer (fuzzy by RFC 8621 §4.4.1, e.g. word-based, and `text` skips most header fields).
 * EMAILID / THREADID keys read the UID store's origins of re-imported copies (../objectid.ts).
 * Header values (by Email id) and decoded search text (by blobId) are immutable and kept in a per-view
 * LRU under a byte budget, so repeated searches in a folder do not download again.
 */
import type { MailBackend } from '../../backend/backend.ts';
import type { SearchKey } from '../../protocol/types.ts';
import type { Session } from '../session.ts';
import type { MailboxView } from '../view.ts';
import { ByteLru, stringBytes } from './cache.ts';
import { originsOf } from '../objectid.ts';
import { analyze, evaluate, prepare, textIndexKey, type EvalContext, type MessageData } from './evaluate.ts';
import { searchTextMode } from '../policy.ts';
import { casemap } from './casemap.ts';
import { searchText, topHeaderValues, topHeaders, type SearchText } from './message-text.ts';
import { keywordsOfIds, metasOf } from './meta.ts';
import { forEachRaw, rawSourceOf, type RawSource } from '../raw-messages.ts';

export const HEADER_BATCH = 500;
/** Per-view budgets of the caches (bytes of JS strings, roughly). */
export const TEXT_CACHE_BYTES = 16 * 1024 * 1024;
export const HEADER_CACHE_BYTES = 4 * 1024 * 1024;

/** Raw header values (RFC 8621 §4.1.2.1, folding kept) of one Email: the names fetched so far, or all of them (`complete`, from the blob). */
interface HeaderRecord {
  values: Map<string, string[]>;
  complete: boolean;
}

interface ViewCache {
  headers: ByteLru<HeaderRecord>;
  text: ByteLru<SearchText>;
}

const caches = new WeakMap<MailboxView, ViewCache>();

function cacheOf(view: MailboxView): ViewCache {
  let c = caches.get(view);
  if (!c) {
    c = { headers: new ByteLru(HEADER_CACHE_BYTES), text: new ByteLru(TEXT_CACHE_BYTES) };
    caches.set(view, c);
  }
  return c;
}

/** Every message of the view, with nothing loaded yet. */
function allMessages(view: MailboxView): MessageData[] {
  return view.uids.map((uid, i) => ({ seq: i + 1, uid, emailId: view.emailIds[i]! }));
}

/** The messages of the selected mailbox matching all `keys`, ascending by sequence number. */
export async function runSearch(s: Session, view: MailboxView, keys: SearchKey[]): Promise<MessageData[]> {
  const key = prepare(keys);
  const index = searchTextMode(s) === 'index';
  const { tier, headers, objectIds, keywordsOnly } = analyze(key, index);
  const n = view.uids.length;
  const ctx: EvalContext = {
    exists: n, maxUid: n > 0 ? view.uids[n - 1]! : 0, deleted: view.deleted, saved: new Set(view.savedUids), now: Date.now(),
    modseqOf: (uid) => view.modseqOf(uid),
    ...(index ? { textIndex: await textIndex(s.account!.backend, view, keys) } : {}),
  };
  const all = allMessages(view);
  const hit = new Uint8Array(n);
  const decide = (list: MessageData[]): MessageData[] => list.filter((m) => {
    const v = evaluate(key, m, ctx);
    if (v === true) hit[m.seq - 1] = 1;
    return v === undefined;
  });
  let pending = decide(all);
  if (pending.length > 0 && keywordsOnly) {
    const keywords = await keywordsOfIds(s, pending.map((m) => m.emailId));
    for (const m of pending) m.keywords = keywords.get(m.emailId);
    pending = decide(pending.filter((m) => m.keywords)); // gone from the store since the view was built: no match
  } else if (pending.length > 0 && tier >= 1) {
    const loaded = await loadMeta(s, pending);
    if (objectIds) { // RFC 8474 §6: EMAILID / THREADID match the ids FETCH shows
      const origins = await originsOf(s, loaded.map((m) => m.emailId));
      for (const m of loaded) m.origin = origins.get(m.emailId);
    }
    pending = decide(loaded);
  }
  if (pending.length > 0 && tier >= 2) {
    const next: MessageData[] = [];
    for (let i = 0; i < pending.length; i += HEADER_BATCH) {
      const batch = pending.slice(i, i + HEADER_BATCH);
      await loadHeaders(s, view, batch, headers);
      next.push(...decide(batch));
    }
    pending = next;
  }
  if (pending.length > 0 && tier >= 3) {
    await loadText(rawSourceOf(s), view, pending, (m) => {
      decide([m]);
      delete m.text; // bounded memory: the cache keeps what fits
    });
  }
  return all.filter((m) => hit[m.seq - 1] === 1);
}

/**
 * Index mode (session/policy.ts): one `Email/query` per distinct BODY/TEXT key of the tree, in parallel, no blob
 * download; none when the tree has no such key.
 */
async function textIndex(backend: MailBackend, view: MailboxView, criteria: SearchKey[]): Promise<Map<string, Set<string>>> {
  // Keyed like the prepared (casemapped) keys evaluate() sees; the store gets the client's string as sent.
  const keys = new Map<string, { type: 'BODY' | 'TEXT'; value: string }>();
  const walk = (k: SearchKey): void => {
    if (k.type === 'BODY' || k.type === 'TEXT') keys.set(textIndexKey(k.type, casemap(k.value)), { type: k.type, value: k.value });
    else if (k.type === 'NOT') walk(k.key);
    else if (k.type === 'OR') { walk(k.left); walk(k.right); }
    else if (k.type === 'AND') k.keys.forEach(walk);
  };
  criteria.forEach(walk);
  const found = await Promise.all([...keys].map(async ([id, k]) =>
    [id, new Set(await backend.textQueryIds(view.mailboxId, k.type === 'TEXT' ? 'text' : 'body', k.value))] as const));
  return new Map(found);
}

/**
 * `Email/get` metadata for the messages lacking it. Returns those still in the store; a message gone from the
 * store since the view was built matches nothing.
 */
export async function loadMeta(s: Session, list: MessageData[]): Promise<MessageData[]> {
  const missing = list.filter((m) => !m.meta);
  if (missing.length > 0) {
    const metas = await metasOf(s, missing.map((m) => m.emailId));
    for (const m of missing) {
      const meta = metas.get(m.emailId);
      if (meta) m.meta = meta;
    }
  }
  return list.filter((m) => m.meta);
}

const SEVEN_BIT = /^[\t\r\n\x20-\x7e]*$/;

/**
 * Decoded values of the header fields `names` (lower case) for each message (metadata must be loaded): from the
 * per-view cache, else the header block in the message cache, else one `Email/get` of `header:Name:asRaw:all`,
 * else (8-bit values) from the raw message. With
 * `headerSource: 'raw'` (stores whose JMAP drops fields, e.g. Cyrus 3.6 with non-UTF-8 values: docs/interop.md)
 * JMAP's header values are never used: the header block comes from the immutable message cache, else the blob.
 */
export async function loadHeaders(s: Session, view: MailboxView, list: MessageData[], names: Set<string>): Promise<void> {
  const backend = s.account!.backend;
  const cache = cacheOf(view).headers;
  const wanted = [...names];
  const covers = (r: HeaderRecord | undefined) => !!r && (r.complete || wanted.every((n) => r.values.has(n)));
  const toFetch: MessageData[] = [];
  for (const m of list) {
    const r = cache.get(m.emailId);
    if (covers(r)) m.headers = r!.values;
    else toFetch.push(m);
  }
  if (toFetch.length === 0) return;
  if (s.config.headerSource === 'raw') return loadHeaderBlocks(s, view, toFetch);
  const rest = await fromCachedBlocks(s, view, toFetch, names);
  if (rest.length === 0) return;
  const fetched = wanted.length > 0 ? await backend.getRawHeaders(rest.map((m) => m.emailId), wanted) : new Map();
  const fromBlob: MessageData[] = [];
  for (const m of rest) {
    const raw = fetched.get(m.emailId);
    const values: Array<[string, string[]]> = wanted.map((n) => [n, rawValuesOf(raw, n)]);
    if (!raw || values.some(([, vs]) => vs.some((v) => !SEVEN_BIT.test(v)))) {
      fromBlob.push(m);
      continue;
    }
    const record = cache.get(m.emailId) ?? { values: new Map<string, string[]>(), complete: false };
    for (const [n, vs] of values) record.values.set(n, vs);
    remember(view, m.emailId, record);
    m.headers = record.values;
  }
  await forEachBlob(rawSourceOf(s), fromBlob, (m, raw) => {
    m.headers = headersFromRaw(view, m.emailId, raw);
  });
}

/** Every header field of each message from its cached header block (no request), else from its raw message. */
async function loadHeaderBlocks(s: Session, view: MailboxView, list: MessageData[]): Promise<void> {
  await forEachBlob(rawSourceOf(s), await fromCachedBlocks(s, view, list), (m, raw) => {
    m.headers = headersFromRaw(view, m.emailId, raw);
  });
}

/**
 * The header fields of the messages whose header block (exact octets, RFC 8621 §4.1: immutable) is in the message
 * cache: every field, or with `names` (lower case) only those, the others left undecoded (a search reads a few
 * fields of thousands of blocks); returns the messages without a cached block.
 */
async function fromCachedBlocks(s: Session, view: MailboxView, list: MessageData[], names?: ReadonlySet<string>): Promise<MessageData[]> {
  const blocks = s.config.messageCache ? await s.config.messageCache.get(s.account!.accountKey, list.map((m) => m.emailId)) : new Map();
  const cache = cacheOf(view).headers;
  return list.filter((m) => {
    const block = blocks.get(m.emailId)?.header;
    if (!block) return true;
    if (!names || names.size === 0) {
      m.headers = headersFromRaw(view, m.emailId, block);
      return false;
    }
    const record = cache.get(m.emailId) ?? { values: new Map<string, string[]>(), complete: false };
    for (const [n, vs] of topHeaderValues(block, names)) record.values.set(n, vs);
    remember(view, m.emailId, record);
    m.headers = record.values;
    return false;
  });
}

/** The raw values of field `name` in a `getRawHeaders` answer (keys as requested; compared case-insensitively). */
function rawValuesOf(raw: Record<string, string[]> | undefined, name: string): string[] {
  if (!raw) return [];
  for (const [k, v] of Object.entries(raw)) if (k.toLowerCase() === name) return v;
  return [];
}

function remember(view: MailboxView, emailId: string, record: HeaderRecord): void {
  let bytes = 64;
  for (const [k, vs] of record.values) bytes += stringBytes(k, ...vs);
  cacheOf(view).headers.set(emailId, record, bytes);
}

function headersFromRaw(view: MailboxView, emailId: string, raw: Uint8Array): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const h of topHeaders(raw)) {
    const k = h.name.toLowerCase();
    values.set(k, [...(values.get(k) ?? []), h.raw]);
  }
  remember(view, emailId, { values, complete: true });
  return values;
}

/**
 * The searchable text (and, from the same download, all header fields) of each message (metadata loaded), by
 * blobId from cache; `done` gets each message as soon as its text is there.
 */
export async function loadText(from: RawSource | MailBackend, view: MailboxView, list: MessageData[], done: (m: MessageData) => void): Promise<void> {
  const cache = cacheOf(view).text;
  const toFetch: MessageData[] = [];
  for (const m of list) {
    const t = m.meta ? cache.get(m.meta.blobId) : undefined;
    if (t) { m.text = t; done(m); }
    else if (m.meta) toFetch.push(m);
  }
  await forEachBlob(from, toFetch, (m, raw) => {
    const t = searchText(raw);
    cache.set(m.meta!.blobId, t, stringBytes(t.header, t.body));
    m.text = t;
    if (!m.headers) m.headers = headersFromRaw(view, m.emailId, raw);
    done(m);
  });
}

/** Hands the raw message of each (metadata loaded) message to `use` as it arrives (../raw-messages.ts: cached ones first). */
async function forEachBlob(from: RawSource | MailBackend, list: MessageData[], use: (m: MessageData, raw: Uint8Array) => void): Promise<void> {
  const refs = list.filter((m) => m.meta).map((m) => ({ m, blobId: m.meta!.blobId, size: m.meta!.size }));
  await forEachRaw(from, refs, (r, raw) => use(r.m, raw));
}
