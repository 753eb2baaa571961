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
 * Per process and in memory (one instance per account key, shared by that account's sessions): a restarted gateway
 * starts empty and trusts nothing from before. Refreshes of one account are serialized. Bounded: an account whose
 * entries pass MAX_ENTRIES starts over empty; accounts beyond MAX_ACCOUNTS drop the least recently used.
 */
import { isCannotCalculateChanges, type EmailMeta, type MailBackend } from '../backend/backend.ts';
import type { CachedMessage } from '../cache/message-cache.ts';

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
  private readonly entries = new Map<string, readonly string[]>();
  private queue: Promise<unknown> = Promise.resolve();

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
    if (state === undefined || metas.length === 0) return;
    if (this.state === null && this.entries.size === 0) this.state = state;
    if (this.state !== state) return;
    if (this.entries.size + metas.length > MAX_ENTRIES) this.entries.clear();
    for (const m of metas) this.entries.set(m.id, [...m.keywords]);
  }

  clear(): void {
    this.entries.clear();
    this.state = null;
  }
}

/** Per account key, least recently used first out. */
export class KeywordCache {
  private readonly accounts = new Map<string, AccountKeywords>();

  account(accountKey: string): AccountKeywords {
    let a = this.accounts.get(accountKey);
    if (a) this.accounts.delete(accountKey);
    else a = new AccountKeywords();
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

/** The process-wide instance the FETCH handler uses. */
export const keywordCache = new KeywordCache();

/** The keyword cache of an account on its JMAP server (the session URL keeps two stores' states apart). */
export function keywordsOf(account: { accountKey: string; backend: MailBackend }): AccountKeywords {
  return keywordCache.account(`${account.accountKey}\u0000${account.backend.serverInfo().sessionUrl}`);
}
