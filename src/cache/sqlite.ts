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
import type { KeywordSnapshot, KeywordStore, KeywordWrite, UnseenCount, UnseenCountStore } from './keyword-store.ts';

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
  /** The keyword cache's and STATUS's mutable data, in the same file (./keyword-store.ts). */
  readonly keywords: SqliteKeywordStore;
  readonly unseenCounts: SqliteUnseenCountStore;

  private constructor(path: string, private readonly maxBytes: number, memoryBytes: number, maxKeywordRows: number) {
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
    this.keywords = new SqliteKeywordStore(this.db, maxKeywordRows);
    this.unseenCounts = new SqliteUnseenCountStore(this.db);
  }

  static open(path: string, maxBytes = 512 * 1024 * 1024, memoryBytes = 64 * 1024 * 1024, maxKeywordRows = 1_000_000): SqliteMessageCache {
    return new SqliteMessageCache(path, maxBytes, memoryBytes, maxKeywordRows);
  }

  /** One SELECT and one LRU touch for the whole batch (a folder listing asks for thousands at once). */
  async get(account: string, emailIds: string[]): Promise<Map<string, CachedMessage>> {
    const out = new Map<string, CachedMessage>();
    const misses: string[] = [];
    for (const id of emailIds) {
      const hit = this.memory.get(id, account);
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
        this.memory.set(m.emailId, m, entryBytes(m), account);
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
    for (const m of messages) this.memory.set(m.emailId, m, entryBytes(m), account);
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
          this.memory.delete(r.email_id, r.account);
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

const KEYWORD_SCHEMA = `
CREATE TABLE IF NOT EXISTS keyword_state (
  account   TEXT PRIMARY KEY,
  state     TEXT NOT NULL,
  entries   INTEGER NOT NULL,
  last_used INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS keyword_state_lru ON keyword_state (last_used);
CREATE TABLE IF NOT EXISTS keywords (
  account  TEXT NOT NULL,
  email_id TEXT NOT NULL,
  keywords TEXT NOT NULL,
  PRIMARY KEY (account, email_id)
) WITHOUT ROWID;
`;

const UNSEEN_SCHEMA = `
CREATE TABLE IF NOT EXISTS unseen_counts (
  key         TEXT PRIMARY KEY,
  count       INTEGER NOT NULL,
  email_state TEXT NOT NULL,
  last_used   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unseen_counts_lru ON unseen_counts (last_used);
`;

/** RFC 8620 §1.2: an Id is 1-255 octets of URL-safe base64 characters. */
const JMAP_ID = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * The keyword cache's entries in the cache file (./keyword-store.ts): a `keyword_state` row per account (the Email
 * state, the entry count, an LRU stamp) and a `keywords` row per email, keywords as a JSON array. Each write is one
 * transaction; `load` is one query. Bounded by rows: past `maxRows`, least recently used accounts are dropped whole
 * until 80% of it.
 */
export class SqliteKeywordStore implements KeywordStore {
  private total: number;
  private tick: number;
  private readonly stateOf: Database.Statement;
  private readonly rows: Database.Statement;
  private readonly stamp: Database.Statement;
  private readonly dropAll: Database.Statement;
  private readonly dropIds: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly saveState: Database.Statement;
  private readonly forget: Database.Statement;

  constructor(private readonly db: Database.Database, private readonly maxRows = 1_000_000) {
    db.exec(KEYWORD_SCHEMA);
    const agg = db.prepare('SELECT COALESCE(SUM(entries), 0) AS n, COALESCE(MAX(last_used), 0) AS t FROM keyword_state').get() as { n: number; t: number };
    this.total = agg.n;
    this.tick = agg.t;
    this.stateOf = db.prepare('SELECT state, entries FROM keyword_state WHERE account = ?');
    // One string for the whole account (JMAP ids are [A-Za-z0-9_-], RFC 8620 §1.2; JSON escapes control characters):
    // a 100k-email account is read several times faster than row by row.
    this.rows = db.prepare("SELECT group_concat(email_id || char(9) || keywords, char(10)) FROM keywords WHERE account = ?").pluck();
    this.stamp = db.prepare('UPDATE keyword_state SET last_used = ? WHERE account = ?');
    this.dropAll = db.prepare('DELETE FROM keywords WHERE account = ?');
    this.dropIds = db.prepare('DELETE FROM keywords WHERE account = ? AND email_id IN (SELECT value FROM json_each(?))');
    this.insert = db.prepare('INSERT OR IGNORE INTO keywords (account, email_id, keywords) VALUES (?, ?, ?)');
    this.update = db.prepare('UPDATE keywords SET keywords = ? WHERE account = ? AND email_id = ?');
    this.saveState = db.prepare('INSERT OR REPLACE INTO keyword_state (account, state, entries, last_used) VALUES (?, ?, ?, ?)');
    this.forget = db.prepare('DELETE FROM keyword_state WHERE account = ?');
  }

  async load(account: string): Promise<KeywordSnapshot | null> {
    return this.db.transaction(() => {
      const st = this.stateOf.get(account) as { state: string } | undefined;
      if (!st) return null;
      this.stamp.run(++this.tick, account);
      const entries = new Map<string, readonly string[]>();
      const parsed = new Map<string, readonly string[]>(); // few distinct keyword sets: parsed once, shared
      const all = this.rows.get(account) as string | null;
      for (const line of all ? all.split('\n') : []) {
        const tab = line.indexOf('\t');
        const json = line.slice(tab + 1);
        let k = parsed.get(json);
        if (!k) parsed.set(json, (k = Object.freeze(JSON.parse(json) as string[])));
        entries.set(line.slice(0, tab), k);
      }
      return { state: st.state, entries };
    })();
  }

  async write(account: string, w: KeywordWrite): Promise<void> {
    this.db.transaction(() => {
      const st = this.stateOf.get(account) as { state: string; entries: number } | undefined;
      const before = st?.entries ?? 0;
      let n = before;
      if (w.state === null || w.reset || (st?.state ?? null) !== w.from) {
        if (st) this.dropAll.run(account);
        n = 0;
      } else if (w.drop?.length) n -= this.dropIds.run(account, JSON.stringify(w.drop)).changes;
      if (w.state === null) {
        if (st) this.forget.run(account);
        this.total -= before;
        return;
      }
      for (const [id, k] of w.set ?? []) {
        if (!JMAP_ID.test(id)) continue; // not an RFC 8620 §1.2 Id: not stored (read again after a restart)
        const json = JSON.stringify(k);
        if (this.insert.run(account, id, json).changes > 0) n++;
        else this.update.run(json, account, id);
      }
      this.saveState.run(account, w.state, n, ++this.tick);
      this.total += n - before;
    })();
    if (this.total > this.maxRows) this.evict(account);
  }

  /** Drops least recently used accounts (never `keep`) until 80% of the bound. */
  private evict(keep: string): void {
    const oldest = this.db.prepare('SELECT account, entries FROM keyword_state WHERE account != ? ORDER BY last_used LIMIT 100');
    while (this.total > this.maxRows * 0.8) {
      const victims = oldest.all(keep) as Array<{ account: string; entries: number }>;
      if (victims.length === 0) break;
      this.db.transaction(() => {
        for (const v of victims) {
          if (this.total <= this.maxRows * 0.8) break;
          this.dropAll.run(v.account);
          this.forget.run(v.account);
          this.total -= v.entries;
        }
      })();
    }
  }
}

/** STATUS's exact UNSEEN counts in the cache file: one row per key, at most `max` (least recently used out). */
export class SqliteUnseenCountStore implements UnseenCountStore {
  private rows: number;
  private tick: number;
  private readonly read: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(private readonly db: Database.Database, private readonly max = 10_000) {
    db.exec(UNSEEN_SCHEMA);
    const agg = db.prepare('SELECT COUNT(*) AS n, COALESCE(MAX(last_used), 0) AS t FROM unseen_counts').get() as { n: number; t: number };
    this.rows = agg.n;
    this.tick = agg.t;
    this.read = db.prepare('SELECT count, email_state FROM unseen_counts WHERE key = ?');
    this.upsert = db.prepare('INSERT OR REPLACE INTO unseen_counts (key, count, email_state, last_used) VALUES (?, ?, ?, ?)');
    this.remove = db.prepare('DELETE FROM unseen_counts WHERE key = ?');
  }

  async get(key: string): Promise<UnseenCount | undefined> {
    const r = this.read.get(key) as { count: number; email_state: string } | undefined;
    return r ? { count: r.count, emailState: r.email_state } : undefined;
  }

  async set(key: string, count: UnseenCount | null): Promise<void> {
    this.rows -= this.remove.run(key).changes;
    if (!count) return;
    this.upsert.run(key, count.count, count.emailState, ++this.tick);
    if (++this.rows <= this.max) return;
    this.rows -= this.db.prepare('DELETE FROM unseen_counts WHERE key IN (SELECT key FROM unseen_counts ORDER BY last_used LIMIT ?)').run(this.rows - this.max).changes;
  }
}
