/**
 * The UID store's HTTP API (hono), served by the Worker in front of the Durable Objects so that Node gateways on
 * several machines share one strongly consistent store (http-uid-store.ts is its client). JSON in and out; every
 * route needs `Authorization: Bearer <token>` (RFC 6750 §2.1); the API is off (503) when no token is configured.
 *
 * Routes, under /v1/accounts/:account/mailboxes/:mailbox (both path segments percent-encoded):
 *   POST /open                       -> MailboxUidState
 *   POST /assign    {emailIds}       -> {uids: [[emailId, uid], ...]}   (pairs: JSON objects reorder numeric keys)
 *   GET  /entries                    -> {entries: [{uid, emailId}, ...]}
 *   POST /snapshot                   -> MailboxSnapshot (state and entries of one instant)
 *   POST /commit-sync {version, expunge, assign, syncState}
 *                                    -> {committed: {state, uids: [[emailId, uid], ...]} | null}  (null: version moved)
 *   POST /expunge   {uids}           -> {removed: [uid, ...]}              (the UIDs this call removed, ascending)
 *   PUT  /sync-state {syncState}     -> 204
 *   POST /advance-sync-state {from, to} -> {advanced}                 (compare-and-set after the gateway's own write)
 *   POST /reset                      -> 204
 *   GET  /deleted                    -> {uids}
 *   POST /deleted   {uids, deleted}  -> 204
 *   POST /touch     {uids}           -> {highestModseq}                  (RFC 7162 §3.1 mod-sequence bump)
 *   GET  /vanished?since=n           -> {uids}                           (RFC 7162 §3.2.6 expunged after n)
 *   /commit-sync also takes an optional `touch` (email ids).
 * The account's immutable-data cache (do-cache.ts), under /v1/accounts/:account/cache:
 *   POST /get {emailIds}             -> {messages: [CachedMessageWire, ...]}   (the cached ones only)
 *   POST /put {messages, maxBytes}   -> 204                                    (LRU eviction beyond maxBytes)
 *   GET  /size                       -> {bytes}
 * The account's push fan-out (account-watch.ts): GET /v1/accounts/:account/watch -> AccountWatchStatus.
 * The account's persisted keywords and UNSEEN counts (do-keyword-store.ts; `key` is the gateway's store key):
 *   POST /v1/accounts/:account/keywords/load  {key}                  -> {snapshot: {state, groups} | null}
 *   POST /v1/accounts/:account/keywords/write {key, write, maxRows}  -> 204   (a KeywordWrite, applied atomically)
 *   POST /v1/accounts/:account/unseen/get     {key}                  -> {count: {count, emailState} | null}
 *   POST /v1/accounts/:account/unseen/set     {key, count, max}      -> 204   (count null: forgotten)
 * RFC 8474 §5.1 origins of COPY's re-imported emails (UidStore.setOrigins), under /v1/accounts/:account/origins:
 *   POST /put {origins: [[emailId, {emailId, threadId}], ...]} -> 204          (write-once per email id)
 *   POST /get {emailIds}             -> {origins: [[emailId, {emailId, threadId}], ...]}   (the recorded ones only)
 * Store errors: 503 for UNAVAILABLE, 409 for the others, body {code, text} (the IMAP response code and text).
 */
import { Hono, type Context } from 'hono';
import { ImapError } from '../protocol/errors.ts';
import type { EmailOrigin, UidStore } from '../uidmap/store.ts';
import type { CachedMessage } from '../cache/message-cache.ts';
import type { AccountCacheAccess } from './account-cache.ts';
import type { AccountWatchStatus } from './account-watch.ts';
import { fromWire, toWire } from './http-message-cache.ts';
import type { KeywordAccess } from './account-keywords.ts';
import { isKeywordWrite, isUnseenCount } from './http-keyword-store.ts';

export interface UidStoreApiOptions<E extends object> {
  /** The store behind the API for this request's environment. */
  store(env: E): UidStore;
  /** The bearer token clients must present; undefined turns the API off. */
  token(env: E): string | undefined;
  /** The per-account message caches; without it the cache routes are absent. */
  cache?(env: E): AccountCacheAccess;
  /** The per-account push watcher's state; without it the watch route is absent. */
  watchStatus?(env: E, account: string): Promise<AccountWatchStatus>;
  /** The per-account keyword and UNSEEN count stores; without it their routes are absent. */
  keywords?(env: E): KeywordAccess;
}

/** The largest per-account cache bound a client may ask for (1 GiB; a Durable Object holds up to 10 GB). */
const MAX_CACHE_BYTES = 1024 * 1024 * 1024;
/** The largest per-object bounds a client may ask for: keyword rows and UNSEEN counts. */
const MAX_KEYWORD_ROWS = 1_000_000;
const MAX_UNSEEN_COUNTS = 100_000;

/** Constant-time comparison of two strings (length leaks, content does not). */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const isUids = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => Number.isInteger(n) && n >= 1 && n <= 4294967295);
const isIds = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
/** `[emailId, {emailId, threadId}]` pairs (RFC 8474 §5.1 origins). */
const isOrigins = (v: unknown): v is Array<[string, EmailOrigin]> => Array.isArray(v) && v.every((p) => {
  if (!Array.isArray(p) || p.length !== 2 || !isId(p[0]) || typeof p[1] !== 'object' || p[1] === null) return false;
  const o = p[1] as Record<string, unknown>;
  return isId(o.emailId) && isId(o.threadId);
});

class BadRequest extends Error {}

async function body(c: Context): Promise<Record<string, unknown>> {
  const v: unknown = await c.req.json().catch(() => undefined);
  if (typeof v !== 'object' || v === null) throw new BadRequest('JSON object body expected');
  return v as Record<string, unknown>;
}

export function uidStoreApi<E extends object>(opts: UidStoreApiOptions<E>): Hono<{ Bindings: E }> {
  const app = new Hono<{ Bindings: E }>();
  const base = '/v1/accounts/:account/mailboxes/:mailbox';
  app.use('/v1/*', async (c, next) => {
    const token = opts.token(c.env);
    if (!token) return c.json({ code: 'UNAVAILABLE', text: 'UID store API not configured' }, 503);
    const m = /^Bearer ([^\s]+)$/.exec(c.req.header('Authorization') ?? '');
    if (!m || !sameSecret(m[1]!, token)) {
      c.header('WWW-Authenticate', 'Bearer realm="uid-store"');
      return c.json({ code: 'AUTHENTICATIONFAILED', text: 'bad or missing bearer token' }, 401);
    }
    await next();
  });
  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json({ code: 'CLIENTBUG', text: err.message }, 400);
    const e = err instanceof ImapError ? err : ImapError.no(`UID store unavailable: ${err.message}`, 'UNAVAILABLE');
    const code = e.code?.name ?? 'UNAVAILABLE';
    return c.json({ code, text: e.message }, code === 'UNAVAILABLE' ? 503 : 409);
  });
  const keys = (c: Context): [UidStore, string, string] => [opts.store(c.env as E), c.req.param('account')!, c.req.param('mailbox')!];

  app.post(`${base}/open`, async (c) => {
    const [s, a, m] = keys(c);
    return c.json(await s.openMailbox(a, m));
  });
  app.post(`${base}/assign`, async (c) => {
    const { emailIds } = await body(c);
    if (!isIds(emailIds)) throw new BadRequest('emailIds: array of non-empty strings expected');
    const [s, a, m] = keys(c);
    return c.json({ uids: [...(await s.assign(a, m, emailIds))] });
  });
  app.get(`${base}/entries`, async (c) => {
    const [s, a, m] = keys(c);
    return c.json({ entries: await s.list(a, m) });
  });
  app.post(`${base}/snapshot`, async (c) => {
    const [s, a, m] = keys(c);
    return c.json(await s.snapshot(a, m));
  });
  app.post(`${base}/commit-sync`, async (c) => {
    const { version, expunge, assign, syncState, touch } = await body(c);
    if (!Number.isInteger(version) || !isUids(expunge) || !isIds(assign) || typeof syncState !== 'string' || (touch !== undefined && !isIds(touch))) {
      throw new BadRequest('version (integer), expunge (nz-numbers), assign (ids) and syncState (string) expected');
    }
    const [s, a, m] = keys(c);
    const done = await s.commitSync(a, m, { version: version as number, expunge, assign, syncState, ...(touch ? { touch } : {}) });
    return c.json({ committed: done && { state: done.state, uids: [...done.assigned] } });
  });
  app.post(`${base}/expunge`, async (c) => {
    const { uids } = await body(c);
    if (!isUids(uids)) throw new BadRequest('uids: array of nz-numbers expected');
    const [s, a, m] = keys(c);
    return c.json({ removed: await s.expunge(a, m, uids) });
  });
  app.put(`${base}/sync-state`, async (c) => {
    const { syncState } = await body(c);
    if (typeof syncState !== 'string') throw new BadRequest('syncState: string expected');
    const [s, a, m] = keys(c);
    await s.setSyncState(a, m, syncState);
    return c.body(null, 204);
  });
  app.post(`${base}/advance-sync-state`, async (c) => {
    const { from, to } = await body(c);
    if (typeof from !== 'string' || typeof to !== 'string') throw new BadRequest('from and to: strings expected');
    const [s, a, m] = keys(c);
    return c.json({ advanced: await s.advanceSyncState(a, m, from, to) });
  });
  app.post(`${base}/reset`, async (c) => {
    const [s, a, m] = keys(c);
    await s.resetMailbox(a, m);
    return c.body(null, 204);
  });
  app.get(`${base}/deleted`, async (c) => {
    const [s, a, m] = keys(c);
    return c.json({ uids: [...(await s.getDeleted(a, m))] });
  });
  app.post(`${base}/deleted`, async (c) => {
    const { uids, deleted } = await body(c);
    if (!isUids(uids) || typeof deleted !== 'boolean') throw new BadRequest('uids (nz-numbers) and deleted (boolean) expected');
    const [s, a, m] = keys(c);
    await s.setDeleted(a, m, uids, deleted);
    return c.body(null, 204);
  });
  app.post(`${base}/touch`, async (c) => {
    const { uids } = await body(c);
    if (!isUids(uids)) throw new BadRequest('uids: array of nz-numbers expected');
    const [s, a, m] = keys(c);
    return c.json({ highestModseq: await s.touch(a, m, uids) });
  });
  app.get(`${base}/vanished`, async (c) => {
    const since = Number(c.req.query('since'));
    if (!Number.isSafeInteger(since) || since < 0) throw new BadRequest('since: mod-sequence expected');
    const [s, a, m] = keys(c);
    return c.json({ uids: await s.vanished(a, m, since) });
  });
  app.post('/v1/accounts/:account/origins/put', async (c) => {
    const { origins } = await body(c);
    if (!isOrigins(origins)) throw new BadRequest('origins: array of [emailId, {emailId, threadId}] (non-empty strings) expected');
    await opts.store(c.env as E).setOrigins(c.req.param('account')!, new Map(origins.map(([id, o]) => [id, { emailId: o.emailId, threadId: o.threadId }])));
    return c.body(null, 204);
  });
  app.post('/v1/accounts/:account/origins/get', async (c) => {
    const { emailIds } = await body(c);
    if (!isIds(emailIds)) throw new BadRequest('emailIds: array of non-empty strings expected');
    return c.json({ origins: [...(await opts.store(c.env as E).getOrigins(c.req.param('account')!, emailIds))] });
  });
  const { cache, watchStatus } = opts;
  if (cache) {
    const acct = '/v1/accounts/:account/cache';
    app.post(`${acct}/get`, async (c) => {
      const { emailIds } = await body(c);
      if (!isIds(emailIds)) throw new BadRequest('emailIds: array of non-empty strings expected');
      return c.json({ messages: (await cache(c.env as E).get(c.req.param('account')!, emailIds)).map(toWire) });
    });
    app.post(`${acct}/put`, async (c) => {
      const { messages, maxBytes } = await body(c);
      const parsed = Array.isArray(messages) ? messages.map(fromWire) : [null];
      if (parsed.some((m) => m === null) || !Number.isSafeInteger(maxBytes) || (maxBytes as number) < 1 || (maxBytes as number) > MAX_CACHE_BYTES) {
        throw new BadRequest(`messages (cached messages, header in base64) and maxBytes (1..${MAX_CACHE_BYTES}) expected`);
      }
      await cache(c.env as E).put(c.req.param('account')!, parsed as CachedMessage[], maxBytes as number);
      return c.body(null, 204);
    });
    app.get(`${acct}/size`, async (c) => c.json({ bytes: await cache(c.env as E).size(c.req.param('account')!) }));
  }
  if (watchStatus) app.get('/v1/accounts/:account/watch', async (c) => c.json(await watchStatus(c.env as E, c.req.param('account')!)));
  const { keywords } = opts;
  if (keywords) {
    const bound = (v: unknown, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= max;
    const keyed = async (c: Context): Promise<[KeywordAccess, string, string, Record<string, unknown>]> => {
      const b = await body(c);
      if (!isId(b.key)) throw new BadRequest('key: non-empty string expected');
      return [keywords(c.env as E), c.req.param('account')!, b.key, b];
    };
    app.post('/v1/accounts/:account/keywords/load', async (c) => {
      const [k, a, key] = await keyed(c);
      return c.json({ snapshot: await k.load(a, key) });
    });
    app.post('/v1/accounts/:account/keywords/write', async (c) => {
      const [k, a, key, { write, maxRows }] = await keyed(c);
      if (!isKeywordWrite(write) || !bound(maxRows, MAX_KEYWORD_ROWS)) {
        throw new BadRequest(`write ({from, state, reset?, drop?, set?}) and maxRows (1..${MAX_KEYWORD_ROWS}) expected`);
      }
      const { from, state, reset, drop, set } = write; // only the write's own fields travel on
      await k.write(a, key, { from, state, ...(reset !== undefined ? { reset } : {}), ...(drop ? { drop } : {}), ...(set ? { set } : {}) }, maxRows);
      return c.body(null, 204);
    });
    app.post('/v1/accounts/:account/unseen/get', async (c) => {
      const [k, a, key] = await keyed(c);
      return c.json({ count: await k.unseenGet(a, key) });
    });
    app.post('/v1/accounts/:account/unseen/set', async (c) => {
      const [k, a, key, { count, max }] = await keyed(c);
      if (!(count === null || isUnseenCount(count)) || !bound(max, MAX_UNSEEN_COUNTS)) {
        throw new BadRequest(`count ({count, emailState} or null) and max (1..${MAX_UNSEEN_COUNTS}) expected`);
      }
      await k.unseenSet(a, key, count && { count: count.count, emailState: count.emailState }, max);
      return c.body(null, 204);
    });
  }
  return app;
}
