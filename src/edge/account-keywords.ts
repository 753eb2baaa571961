/**
 * The KeywordStore and UnseenCountStore (src/cache/keyword-store.ts) kept in each account's Durable Object
 * (do-keyword-store.ts), reached over RPC (rpc-keyword-store.ts, the Worker) or HTTP (http-keyword-store.ts, Node
 * `--do-cache`): keywords and exact UNSEEN counts then survive a restart of workerd or of a Node gateway, and are
 * shared by every gateway of the account (issue 4, DESIGN.md rule 9).
 *
 * Routing: a key goes to the object of the account it names, read from the gateway's key formats:
 * `<accountKey>\u0000<session URL>` (src/session/keyword-cache.ts) and `JSON [session URL, accountKey, mailboxId]`
 * (src/session/commands/status.ts). A key of another form goes to an object of its own name (still correct).
 *
 * Order: the contract applies writes in call order. Over HTTP, writes of one key are sent one after the other.
 * Over RPC (workerd) each write goes out when called (no queue shared by several requests' I/O); were two ever to
 * arrive swapped, the object's `from` check keeps the stored entries valid at the stored state (an entry is only
 * stored with the state it was read at), it only keeps fewer of them.
 */
import type { KeywordSnapshot, KeywordStore, KeywordWrite, UnseenCount, UnseenCountStore } from '../cache/keyword-store.ts';
import type { MessageCache } from '../cache/message-cache.ts';
import type { KeywordSnapshotWire } from './do-keyword-store.ts';

/** Per-account operations of the objects (`account` picks the object; `key` is the row inside it). */
export interface KeywordAccess {
  load(account: string, key: string): Promise<KeywordSnapshotWire | null>;
  write(account: string, key: string, w: KeywordWrite, maxRows: number): Promise<void>;
  unseenGet(account: string, key: string): Promise<UnseenCount | null>;
  unseenSet(account: string, key: string, count: UnseenCount | null, max: number): Promise<void>;
}

/** Keyword rows per object (the keyword cache keeps at most 250,000 entries per account). */
export const DO_KEYWORD_ROWS = 300_000;
/** UNSEEN counts per object (one per mailbox of the account). */
export const DO_UNSEEN_COUNTS = 2_000;

/** The account key of a keyword cache key (`<accountKey>\u0000<session URL>`). */
export function accountOfKeywordKey(key: string): string {
  const nul = key.indexOf('\u0000');
  return nul < 0 ? key : key.slice(0, nul);
}

/** The account key of an UNSEEN count key (`JSON [session URL, accountKey, mailboxId]`). */
export function accountOfUnseenKey(key: string): string {
  try {
    const v: unknown = JSON.parse(key);
    if (Array.isArray(v) && typeof v[1] === 'string' && v[1].length > 0) return v[1];
  } catch {
    // not the gateway's form: the key names its own object
  }
  return key;
}

export function snapshotFromWire(w: KeywordSnapshotWire): KeywordSnapshot {
  const entries = new Map<string, readonly string[]>();
  for (const [keywords, ids] of w.groups) {
    const k = Object.freeze([...keywords]); // one array per set, shared by its emails (never mutated by the cache)
    for (const id of ids) entries.set(id, k);
  }
  return { state: w.state, entries };
}

/** A KeywordStore over the objects; `ordered`: writes of one key wait for the one before. */
export class AccountKeywordStore implements KeywordStore {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly access: KeywordAccess, private readonly ordered: boolean, private readonly maxRows = DO_KEYWORD_ROWS) {}

  async load(key: string): Promise<KeywordSnapshot | null> {
    const w = await this.access.load(accountOfKeywordKey(key), key);
    return w && snapshotFromWire(w);
  }

  write(key: string, w: KeywordWrite): Promise<void> {
    const send = (): Promise<void> => this.access.write(accountOfKeywordKey(key), key, w, this.maxRows);
    if (!this.ordered) return send();
    const next = (this.tails.get(key) ?? Promise.resolve()).then(send, send);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return next;
  }
}

/** An UnseenCountStore over the objects. */
export class AccountUnseenCountStore implements UnseenCountStore {
  constructor(private readonly access: KeywordAccess, private readonly max = DO_UNSEEN_COUNTS) {}

  async get(key: string): Promise<UnseenCount | undefined> {
    return (await this.access.unseenGet(accountOfUnseenKey(key), key)) ?? undefined;
  }

  set(key: string, count: UnseenCount | null): Promise<void> {
    return this.access.unseenSet(accountOfUnseenKey(key), key, count && { count: count.count, emailState: count.emailState }, this.max);
  }
}

/** The stores a MessageCache carries (MessageCache.keywords / unseenCounts). */
export interface KeywordStores {
  keywords: KeywordStore;
  unseenCounts: UnseenCountStore;
}

/** `cache`, now also carrying `stores` (the keyword cache and STATUS find them on the gateway's message cache). */
export function withKeywordStores<C extends MessageCache>(cache: C, stores: KeywordStores): C & KeywordStores {
  return Object.assign(cache, stores);
}
