/**
 * The immutable-data cache in SQLite (Node): one file beside the UID map, so a restarted gateway answers a folder
 * listing without re-downloading headers. Bounded by bytes: when over, the least recently used fifth is dropped.
 *
 * In front of it, a bounded in-memory LRU of the same entries (`memoryBytes`, default 64 MiB): a warm listing of a
 * 6,000-message folder read every row and rewrote every row's LRU stamp (~100 ms, docs/bench/profile.md); now it
 * reads memory. Entries never change (RFC 8621 §4.1), so the two tiers cannot disagree; the memory tier holds a
 * subset of the rows (at most `maxBytes` of them, evicted with them). Memory hits are re-stamped in the SQLite LRU
 * lazily: remembered, and written in one transaction before an eviction and at close (a killed gateway loses
 * only those stamps: an entry may then be evicted early and fetched again from JMAP, never served wrong).
 */
import Database from 'better-sqlite3';
import { ByteLru } from './lru.ts';
import { entryBytes, type CachedMessage, type MessageCache } from './message-cache.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS message_cache (
  account     TEXT NOT NULL,
  email_id    TEXT NOT NULL,
  blob_id     TEXT NOT NULL,
  thread_id   TEXT NOT NULL,
  size        INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  header      BLOB NOT NULL,
  bytes       INTEGER NOT NULL,
  last_used   INTEGER NOT NULL,
  PRIMARY KEY (account, email_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_cache_lru ON message_cache (last_used);
`;

interface Row {
  email_id: string;
  blob_id: string;
  thread_id: string;
  size: number;
  received_at: string;
  header: Buffer;
}

export class SqliteMessageCache implements MessageCache {
  private readonly db: Database.Database;
  private total: number;
  private tick: number;
  private readonly select: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly memory: ByteLru<CachedMessage>;
  /** Memory hits not yet re-stamped in the SQLite LRU, per account. */
  private readonly pendingTouch = new Map<string, Set<string>>();

  private constructor(path: string, private readonly maxBytes: number, memoryBytes: number) {
    this.memory = new ByteLru(Math.min(memoryBytes, maxBytes));
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const agg = this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b, COALESCE(MAX(last_used), 0) AS t FROM message_cache').get() as { b: number; t: number };
    this.total = agg.b;
    this.tick = agg.t;
    this.select = this.db.prepare(`SELECT email_id, blob_id, thread_id, size, received_at, header FROM message_cache
      WHERE account = ? AND email_id IN (SELECT value FROM json_each(?))`);
    this.touch = this.db.prepare('UPDATE message_cache SET last_used = ? WHERE account = ? AND email_id IN (SELECT value FROM json_each(?))');
  }

  static open(path: string, maxBytes = 512 * 1024 * 1024, memoryBytes = 64 * 1024 * 1024): SqliteMessageCache {
    return new SqliteMessageCache(path, maxBytes, memoryBytes);
  }

  /** One SELECT and one LRU touch for the whole batch (a folder listing asks for thousands at once). */
  async get(account: string, emailIds: string[]): Promise<Map<string, CachedMessage>> {
    const out = new Map<string, CachedMessage>();
    const misses: string[] = [];
    for (const id of emailIds) {
      const hit = this.memory.get(memoryKey(account, id));
      if (hit) out.set(id, hit);
      else misses.push(id);
    }
    if (out.size > 0) {
      let pending = this.pendingTouch.get(account);
      if (!pending) this.pendingTouch.set(account, (pending = new Set()));
      for (const id of out.keys()) pending.add(id);
    }
    if (misses.length === 0) return out;
    const ids = JSON.stringify(misses);
    const now = ++this.tick;
    this.db.transaction(() => {
      const rows = this.select.all(account, ids) as Row[];
      for (const r of rows) {
        const m = { emailId: r.email_id, blobId: r.blob_id, threadId: r.thread_id, size: r.size, receivedAt: r.received_at, header: new Uint8Array(r.header) };
        out.set(r.email_id, m);
        this.memory.set(memoryKey(account, m.emailId), m, entryBytes(m));
      }
      if (rows.length > 0) this.touch.run(now, account, ids);
    })();
    return out;
  }

  async put(account: string, messages: CachedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const old = this.db.prepare('SELECT bytes FROM message_cache WHERE account = ? AND email_id = ?');
    const upsert = this.db.prepare(`INSERT OR REPLACE INTO message_cache
      (account, email_id, blob_id, thread_id, size, received_at, header, bytes, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const now = ++this.tick;
    this.db.transaction(() => {
      for (const m of messages) {
        const prev = old.get(account, m.emailId) as { bytes: number } | undefined;
        const bytes = entryBytes(m);
        upsert.run(account, m.emailId, m.blobId, m.threadId, m.size, m.receivedAt, m.header, bytes, now);
        this.total += bytes - (prev?.bytes ?? 0);
      }
    })();
    for (const m of messages) this.memory.set(memoryKey(account, m.emailId), m, entryBytes(m));
    if (this.total > this.maxBytes) this.evict();
  }

  /** Drop least recently used entries until 80% of the bound. */
  private evict(): void {
    this.flushTouches();
    const target = this.maxBytes * 0.8;
    const oldest = this.db.prepare('SELECT account, email_id, bytes FROM message_cache ORDER BY last_used LIMIT 1000');
    const del = this.db.prepare('DELETE FROM message_cache WHERE account = ? AND email_id = ?');
    while (this.total > target) {
      const rows = oldest.all() as Array<{ account: string; email_id: string; bytes: number }>;
      if (rows.length === 0) break;
      this.db.transaction(() => {
        for (const r of rows) {
          if (this.total <= target) break;
          del.run(r.account, r.email_id);
          this.memory.delete(memoryKey(r.account, r.email_id));
          this.total -= r.bytes;
        }
      })();
    }
  }

  async size(): Promise<number> {
    return this.total;
  }

  /** Writes the remembered memory hits' LRU stamps (one transaction). */
  private flushTouches(): void {
    if (this.pendingTouch.size === 0) return;
    const now = ++this.tick;
    this.db.transaction(() => {
      for (const [account, ids] of this.pendingTouch) this.touch.run(now, account, JSON.stringify([...ids]));
    })();
    this.pendingTouch.clear();
  }

  async close(): Promise<void> {
    this.flushTouches();
    this.memory.clear();
    this.db.close();
  }
}

function memoryKey(account: string, emailId: string): string {
  return `${account}\u0000${emailId}`;
}
