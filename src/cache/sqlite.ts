/**
 * The immutable-data cache in SQLite (Node): one file beside the UID map, so a restarted gateway answers a folder
 * listing without re-downloading headers. Bounded by bytes: when over, the least recently used fifth is dropped.
 */
import Database from 'better-sqlite3';
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

  private constructor(path: string, private readonly maxBytes: number) {
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

  static open(path: string, maxBytes = 512 * 1024 * 1024): SqliteMessageCache {
    return new SqliteMessageCache(path, maxBytes);
  }

  /** One SELECT and one LRU touch for the whole batch (a folder listing asks for thousands at once). */
  async get(account: string, emailIds: string[]): Promise<Map<string, CachedMessage>> {
    const out = new Map<string, CachedMessage>();
    if (emailIds.length === 0) return out;
    const ids = JSON.stringify(emailIds);
    const now = ++this.tick;
    this.db.transaction(() => {
      const rows = this.select.all(account, ids) as Row[];
      for (const r of rows) {
        out.set(r.email_id, { emailId: r.email_id, blobId: r.blob_id, threadId: r.thread_id, size: r.size, receivedAt: r.received_at, header: new Uint8Array(r.header) });
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
    if (this.total > this.maxBytes) this.evict();
  }

  /** Drop least recently used entries until 80% of the bound. */
  private evict(): void {
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
          this.total -= r.bytes;
        }
      })();
    }
  }

  async size(): Promise<number> {
    return this.total;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
