/**
 * Keywords of an account's emails as of one JMAP Email state (DESIGN.md rule 9: a warm folder listing costs one
 * `Email/changes`, plus keywords for the changed ids). `keywords` is the only mutable Email property FETCH needs
 * (RFC 8621 §4.1.1; `mailboxIds` is the UID map's business); the immutable rest (size, receivedAt, blobId,
 * threadId) comes from the message cache (../cache/).
 *
 * Validity: every entry is the email's keywords at `state` or later. `refresh` asks `Email/changes` since `state`
 * (RFC 8620 §5.2) and drops every id created, updated or destroyed since, then moves `state` forward: one request
 * when nothing changed; the dropped ids are read again by the caller (`Email/get`) and recorded only when that
 * response's state is the cache's state (`record`), so an entry is never older than the state it claims.
 * `cannotCalculateChanges` (or too many pages) empties the cache. The gateway's own writes (STORE, the implicit
 * `\Seen`) move the JMAP state like anyone's and are dropped by the next refresh the same way.
 *
 * In memory (one instance per account key, shared by that account's sessions), mirrored in a KeywordStore when the
 * gateway has one (../cache/keyword-store.ts: SQLite beside the message cache on Node; the account's Durable Object
 * on workerd and with `--do-cache`, src/edge/do-keyword-store.ts): the first refresh of an
 * account loads its stored entries and the state they are valid at (one read), then asks `Email/changes` since
 * that state as usual, so a restarted gateway's first listing costs one `Email/changes` too (issue 4). Each change
 * is written as it happens (the ids dropped with the new state, the entries recorded): only changes, never the
 * whole account. Without a store a restarted gateway starts empty and trusts nothing.
 * Refreshes of one account are serialized. Bounded: an account whose entries pass MAX_ENTRIES starts over empty;
 * accounts beyond MAX_ACCOUNTS drop the least recently used (from memory; the store has its own bound).
 */
import { isCannotCalculateChanges, type EmailMeta, type MailBackend } from '../backend/backend.ts';
import type { CachedMessage } from '../cache/message-cache.ts';
import type { KeywordStore, KeywordWrite } from '../cache/keyword-store.ts';

/**
 * From this many messages on, FETCH and SEARCH/SORT/THREAD answer keywords from this cache: one `Email/changes`
 * first, then `Email/get` only for what changed or was never seen. Fewer cost one `Email/get` (a check costs as much).
 */
export const KEYWORD_CACHE_MIN = 100;

/** Cached immutable facts + cached keywords: the whole EmailMeta a command needs (`mailboxIds` are the UID map's). */
export function cachedMeta(c: CachedMessage, keywords: readonly string[]): EmailMeta {
  return { id: c.emailId, blobId: c.blobId, threadId: c.threadId, mailboxIds: [], keywords: [...keywords], size: c.size, receivedAt: c.receivedAt };
}

const MAX_ENTRIES = 250_000;
const MAX_ACCOUNTS = 1_000;
const MAX_CHANGE_PAGES = 10;
const CHANGES_PER_PAGE = 5_000;

export class AccountKeywords {
  /** The JMAP Email state every entry is valid for; null when empty (nothing trusted). */
  state: string | null = null;
  private entries = new Map<string, readonly string[]>();
  private queue: Promise<unknown> = Promise.resolve();
  /** False until the store's snapshot is loaded (by the first refresh); nothing is recorded before. */
  private loaded: boolean;

  /** `store` (with this account's key in it) mirrors every change; none: memory only. */
  constructor(private store?: KeywordStore, private readonly key = '') {
    this.loaded = store === undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached keywords of `id`, or undefined. */
  get(id: string): readonly string[] | undefined {
    return this.entries.get(id);
  }

  /** Brings the entries to the store's current state: one `Email/changes` (more pages only after many changes). */
  refresh(backend: MailBackend): Promise<void> {
    const run = async (): Promise<void> => {
      if (!this.loaded) await this.load();
      const since = this.state;
      if (since === null) return;
      const drop: string[] = [];
      let state = since;
      try {
        for (let page = 0; ; page++) {
          if (page >= MAX_CHANGE_PAGES) return this.clear();
          const ch = await backend.emailChanges(state, CHANGES_PER_PAGE);
          drop.push(...ch.created, ...ch.updated, ...ch.destroyed);
          state = ch.newState;
          if (!ch.hasMoreChanges) break;
        }
      } catch (err) {
        if (isCannotCalculateChanges(err)) return this.clear();
        throw err;
      }
      if (this.state !== since) return; // cleared meanwhile
      for (const id of drop) this.entries.delete(id);
      this.state = state;
      if (drop.length > 0 || state !== since) this.persist({ from: since, state, drop });
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Keep the keywords of `metas`, read by an `Email/get` that reported `state`: only when that is the cache's state
   * (or the cache is empty and adopts it). Anything else could be older than `state` claims: ignored.
   */
  record(state: string | undefined, metas: readonly EmailMeta[]): void {
    if (state === undefined || metas.length === 0 || !this.loaded) return;
    const from = this.state;
    let reset = from === null && this.entries.size === 0;
    if (reset) this.state = state;
    if (this.state !== state) return;
    if (this.entries.size + metas.length > MAX_ENTRIES) {
      this.entries.clear();
      reset = true;
    }
    if (!this.store) {
      for (const m of metas) this.entries.set(m.id, [...m.keywords]);
      return;
    }
    // Only what the store does not hold yet is written (a search re-reads known keywords when headers are missing).
    const set: Array<readonly [string, readonly string[]]> = [];
    for (const m of metas) {
      const old = this.entries.get(m.id);
      if (!reset && old && sameKeywords(old, m.keywords)) continue;
      const k = [...m.keywords];
      this.entries.set(m.id, k);
      set.push([m.id, k]);
    }
    if (set.length > 0 || reset) this.persist({ from, state, reset, set });
  }

  clear(): void {
    this.entries.clear();
    this.state = null;
    this.persist({ from: null, state: null, reset: true });
  }

  /** The store's snapshot, once; a store that cannot be read is not used (memory only, as without one). */
  private async load(): Promise<void> {
    try {
      const snap = await this.store!.load(this.key);
      if (snap && !this.loaded && this.state === null && this.entries.size === 0) {
        this.entries = snap.entries;
        this.state = snap.state;
      }
    } catch {
      this.store = undefined;
    }
    this.loaded = true;
  }

  /**
   * Mirrors one change in the store (applied in call order). A failed write stops the mirroring and empties the
   * stored account: the stored entries no longer match any state this cache knows of.
   */
  private persist(w: KeywordWrite): void {
    const store = this.store;
    if (!store) return;
    store.write(this.key, w).catch(() => {
      if (this.store !== store) return;
      this.store = undefined;
      store.write(this.key, { from: null, state: null, reset: true }).catch(() => undefined);
    });
  }
}

/** Same keywords in the same order (as JMAP sent them: a different order is only written again). */
function sameKeywords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** Per account key, least recently used first out; mirrored in `store` when given. */
export class KeywordCache {
  private readonly accounts = new Map<string, AccountKeywords>();

  constructor(private readonly store?: KeywordStore) {}

  account(accountKey: string): AccountKeywords {
    let a = this.accounts.get(accountKey);
    if (a) this.accounts.delete(accountKey);
    else a = new AccountKeywords(this.store, accountKey);
    this.accounts.set(accountKey, a);
    for (const k of this.accounts.keys()) {
      if (this.accounts.size <= MAX_ACCOUNTS) break;
      this.accounts.delete(k);
    }
    return a;
  }

  clear(): void {
    this.accounts.clear();
  }
}

/** The process-wide instance for gateways without a KeywordStore. */
export const keywordCache = new KeywordCache();
/** One cache per KeywordStore (a gateway's cache file): a gateway restarted in the same process starts from its file. */
const persisted = new WeakMap<KeywordStore, KeywordCache>();

/**
 * The keyword cache of an account on its JMAP server (the session URL keeps two stores' states apart), mirrored in
 * `store` (the gateway's `messageCache.keywords`) when there is one.
 */
export function keywordsOf(account: { accountKey: string; backend: MailBackend }, store?: KeywordStore): AccountKeywords {
  let cache = keywordCache;
  if (store) {
    cache = persisted.get(store) ?? new KeywordCache(store);
    persisted.set(store, cache);
  }
  return cache.account(`${account.accountKey}\u0000${account.backend.serverInfo().sessionUrl}`);
}
