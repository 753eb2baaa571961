/**
 * Where the keyword cache (../session/keyword-cache.ts) and STATUS's exact UNSEEN counts (../session/commands/
 * status.ts) outlive the process (issue 4: "warm" includes before a restart; DESIGN.md rule 9). Both hold mutable
 * JMAP data, so nothing here is trusted alone: an account's keywords are stored with the JMAP Email state they are
 * valid at (RFC 8620 §5.1) and the cache brings them forward with `Email/changes` (RFC 8620 §5.2) before use; an
 * UNSEEN count is the count at one Email state, true forever for that state.
 *
 * Implementations: SQLite in the immutable-data cache's file (./sqlite.ts, Node), the account's Durable Object
 * (../edge/do-keyword-store.ts, over RPC on workerd and HTTP with `--do-cache`: ../edge/account-keywords.ts), and
 * memory (here: the contract's reference and for tests; test/cache/keyword-contract.ts runs them all). A gateway
 * without one keeps the keyword cache in memory only.
 */

/** An account's persisted keywords: every entry is the email's keywords at `state`. */
export interface KeywordSnapshot {
  /** The JMAP Email state (RFC 8620 §5.1) the entries are valid at. */
  state: string;
  /** Email id -> its keywords (RFC 8621 §4.1.1), lowercase, any order. */
  entries: Map<string, readonly string[]>;
}

/**
 * One change to an account's persisted keywords, applied atomically. `from` is the state the writer believes is
 * stored: when the stored state differs (a lost write, an eviction), the store cannot know which entries are still
 * valid and starts the account over, as after `reset`, before applying `set`.
 */
export interface KeywordWrite {
  /** The state the entries are at before the write (null: none stored). */
  from: string | null;
  /** The state after it; null empties the account (cannotCalculateChanges). */
  state: string | null;
  /** Drop every stored entry first. */
  reset?: boolean;
  /** Ids created, updated or destroyed since `from` (RFC 8620 §5.2): no longer valid at `state`. */
  drop?: readonly string[];
  /** Entries read at `state`. */
  set?: ReadonlyArray<readonly [emailId: string, keywords: readonly string[]]>;
}

/**
 * Persisted keywords per account key (server + account, as the keyword cache keys them). Writes are applied in the
 * order they are called, each one whole or not at all; a store may drop whole accounts to stay within its bound.
 */
export interface KeywordStore {
  /** The account's snapshot, or null when nothing is stored. One read, when the account is first needed. */
  load(account: string): Promise<KeywordSnapshot | null>;
  write(account: string, w: KeywordWrite): Promise<void>;
}

/** An exact UNSEEN count of a mailbox (RFC 9051 §6.3.11) at one JMAP Email state. */
export interface UnseenCount {
  count: number;
  emailState: string;
}

/** The last exact UNSEEN count per key (server, account, mailbox); bounded, oldest first out. */
export interface UnseenCountStore {
  get(key: string): Promise<UnseenCount | undefined>;
  /** Remember `count` for `key` (null forgets it). */
  set(key: string, count: UnseenCount | null): Promise<void>;
}

/** Applies `w` to `entries` (an account's stored entries at `stored`): the contract's rules, for both stores. */
export function applyKeywordWrite(stored: string | null, entries: Map<string, readonly string[]>, w: KeywordWrite): void {
  if (w.reset || stored !== w.from) entries.clear();
  else for (const id of w.drop ?? []) entries.delete(id);
  if (w.state === null) return entries.clear();
  for (const [id, k] of w.set ?? []) entries.set(id, k);
}

/** In memory: accounts beyond `maxAccounts` drop the least recently used. */
export class MemoryKeywordStore implements KeywordStore {
  private readonly accounts = new Map<string, { state: string; entries: Map<string, readonly string[]> }>();

  constructor(private readonly maxAccounts = 1_000) {}

  async load(account: string): Promise<KeywordSnapshot | null> {
    const a = this.accounts.get(account);
    if (!a) return null;
    this.accounts.delete(account);
    this.accounts.set(account, a);
    return { state: a.state, entries: new Map(a.entries) };
  }

  async write(account: string, w: KeywordWrite): Promise<void> {
    const a = this.accounts.get(account);
    const entries = a?.entries ?? new Map<string, readonly string[]>();
    applyKeywordWrite(a?.state ?? null, entries, w);
    this.accounts.delete(account);
    if (w.state === null) return;
    this.accounts.set(account, { state: w.state, entries });
    for (const k of this.accounts.keys()) {
      if (this.accounts.size <= this.maxAccounts) break;
      this.accounts.delete(k);
    }
  }
}

/** In memory, `max` counts at most. */
export class MemoryUnseenCountStore implements UnseenCountStore {
  private readonly counts = new Map<string, UnseenCount>();

  constructor(private readonly max = 10_000) {}

  async get(key: string): Promise<UnseenCount | undefined> {
    return this.counts.get(key);
  }

  async set(key: string, count: UnseenCount | null): Promise<void> {
    this.counts.delete(key);
    if (count) this.counts.set(key, { ...count });
    for (const k of this.counts.keys()) {
      if (this.counts.size <= this.max) break;
      this.counts.delete(k);
    }
  }
}
