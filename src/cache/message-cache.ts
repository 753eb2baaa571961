/**
 * The immutable-data cache (DESIGN.md rule 9): what IMAP clients ask for again and again and JMAP can never change
 * for a given email id (RFC 8621 §4.1: only `keywords` and `mailboxIds` are mutable). With each message's raw header
 * block cached, a warm folder listing (any client's header set: Thunderbird, Apple Mail, Outlook, mbsync all
 * differ) is answered locally; only keywords cross to JMAP.
 *
 * Keyed by (account, email id). Bounded by bytes; least recently used entries go first. Implementations: memory
 * (tests, workerd isolate) and SQLite beside the UID map (Node, survives restarts).
 */
import { ByteLru } from './lru.ts';
import type { KeywordStore, UnseenCountStore } from './keyword-store.ts';

/** One cached message: immutable facts of a JMAP Email. */
export interface CachedMessage {
  emailId: string;
  blobId: string;
  threadId: string;
  /** RFC822.SIZE (JMAP `size`). */
  size: number;
  /** INTERNALDATE (JMAP `receivedAt`). */
  receivedAt: string;
  /** The raw header block exactly as stored, up to and including the empty line that ends it. */
  header: Uint8Array;
}

export interface MessageCache {
  /** Cached entries among `emailIds` (missing ones are simply absent). */
  get(account: string, emailIds: string[]): Promise<Map<string, CachedMessage>>;
  put(account: string, messages: CachedMessage[]): Promise<void>;
  /** Bytes held now (for metrics and bounds). */
  size(): Promise<number>;
  close(): Promise<void>;
  /** Where the keyword cache persists (./keyword-store.ts); absent: keywords are kept in memory only. */
  readonly keywords?: KeywordStore;
  /** Where STATUS's exact UNSEEN counts persist; absent: in memory only. */
  readonly unseenCounts?: UnseenCountStore;
}

/** Approximate bytes an entry costs. */
export function entryBytes(m: CachedMessage): number {
  return m.header.length + m.emailId.length + m.blobId.length + m.threadId.length + m.receivedAt.length + 32;
}

/** In-memory cache with an LRU bound (../cache/lru.ts). */
export class MemoryMessageCache implements MessageCache {
  private readonly lru: ByteLru<CachedMessage>;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.lru = new ByteLru(maxBytes);
  }

  async get(account: string, emailIds: string[]): Promise<Map<string, CachedMessage>> {
    const out = new Map<string, CachedMessage>();
    for (const id of emailIds) {
      const hit = this.lru.get(`${account}\u0000${id}`);
      if (hit) out.set(id, hit);
    }
    return out;
  }

  async put(account: string, messages: CachedMessage[]): Promise<void> {
    for (const m of messages) this.lru.set(`${account}\u0000${m.emailId}`, m, entryBytes(m));
  }

  async size(): Promise<number> {
    return this.lru.bytes;
  }

  async close(): Promise<void> {}
}
