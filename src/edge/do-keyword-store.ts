/**
 * The keyword cache's entries and STATUS's exact UNSEEN counts (src/cache/keyword-store.ts) inside an account's
 * UidStoreDO: tables `keyword_state`, `keyword_entry` and `unseen_count` of the object's SQLite storage
 * (do-schema.ts). The same rules as the Node SQLite stores (src/cache/sqlite.ts): every entry is valid at the
 * stored Email state (RFC 8620 §5.1), a write from another state than the stored one starts the key over
 * (`applyKeywordWrite`'s rules), each write is one `transactionSync` with no await (whole or not at all).
 *
 * Keys are the gateway's keys (an account on one JMAP server, or a mailbox of it); an object holds its account's
 * few. Bounds are per object and given by the caller with each write (like the message cache's byte bound): past
 * `maxRows` keyword rows, least recently used keys are dropped whole down to 80% of it, the key being written last
 * (and only when it alone is over the bound); past `max` UNSEEN counts, the oldest go.
 */
import type { KeywordWrite, UnseenCount } from '../cache/keyword-store.ts';
import type { DurableObjectState, SqlStorage } from './cf.ts';

/**
 * A KeywordSnapshot on the wire (RPC and the HTTP API): entries grouped by keyword set, since an account has few
 * distinct sets (a 100k-email snapshot is then ids plus a handful of arrays).
 */
export interface KeywordSnapshotWire {
  state: string;
  groups: Array<[keywords: string[], emailIds: string[]]>;
}

/** RFC 8620 §1.2: an Id is 1-255 octets of URL-safe base64 characters (so never a newline, the group separator). */
const JMAP_ID = /^[A-Za-z0-9_-]{1,255}$/;

export class DoKeywordStore {
  private readonly sql: SqlStorage;

  constructor(private readonly ctx: DurableObjectState) {
    this.sql = ctx.storage.sql;
  }

  /** The key's entries grouped by keyword set (one query), and an LRU stamp; null when nothing is stored. */
  load(key: string): KeywordSnapshotWire | null {
    return this.ctx.storage.transactionSync(() => {
      const st = this.sql.exec<{ state: string }>('SELECT state FROM keyword_state WHERE key = ?', key).toArray()[0];
      if (!st) return null;
      this.stamp('keyword_state', key);
      const rows = this.sql.exec<{ keywords: string; ids: string }>(
        'SELECT keywords, group_concat(email_id, char(10)) AS ids FROM keyword_entry WHERE key = ? GROUP BY keywords', key).toArray();
      return { state: st.state, groups: rows.map((r) => [JSON.parse(r.keywords) as string[], r.ids.split('\n')]) };
    });
  }

  write(key: string, w: KeywordWrite, maxRows: number): void {
    this.ctx.storage.transactionSync(() => {
      const st = this.sql.exec<{ state: string; entries: number }>('SELECT state, entries FROM keyword_state WHERE key = ?', key).toArray()[0];
      let n = Number(st?.entries ?? 0);
      if (w.state === null || w.reset || (st?.state ?? null) !== w.from) {
        if (st) this.sql.exec('DELETE FROM keyword_entry WHERE key = ?', key);
        n = 0;
      } else if (w.drop?.length) {
        n -= this.sql.exec('DELETE FROM keyword_entry WHERE key = ? AND email_id IN (SELECT value FROM json_each(?)) RETURNING email_id',
          key, JSON.stringify(w.drop)).toArray().length;
      }
      if (w.state === null) {
        this.sql.exec('DELETE FROM keyword_state WHERE key = ?', key);
        return;
      }
      // Ids that are not RFC 8620 Ids are not stored (read again after a restart); the last of duplicates wins.
      const set = new Map((w.set ?? []).filter(([id]) => JMAP_ID.test(id)).map(([id, k]) => [id, JSON.stringify(k)] as const));
      if (set.size > 0) {
        n += set.size - Number(this.sql.exec<{ c: number }>('SELECT count(*) AS c FROM keyword_entry WHERE key = ? AND email_id IN (SELECT value FROM json_each(?))',
          key, JSON.stringify([...set.keys()])).one().c);
        for (const [id, k] of set) {
          this.sql.exec('INSERT INTO keyword_entry (key, email_id, keywords) VALUES (?, ?, ?) ON CONFLICT (key, email_id) DO UPDATE SET keywords = excluded.keywords', key, id, k);
        }
      }
      this.sql.exec('INSERT OR REPLACE INTO keyword_state (key, state, entries, last_used) VALUES (?, ?, ?, 0)', key, w.state, n);
      this.stamp('keyword_state', key);
      this.bound(key, maxRows);
    });
  }

  /** Drops least recently used keys (`keep` last, only when it alone is over) until 80% of `maxRows`. */
  private bound(keep: string, maxRows: number): void {
    let total = Number(this.sql.exec<{ n: number }>('SELECT coalesce(sum(entries), 0) AS n FROM keyword_state').one().n);
    if (total <= maxRows) return;
    const victims = this.sql.exec<{ key: string; entries: number }>('SELECT key, entries FROM keyword_state WHERE key != ? ORDER BY last_used', keep).toArray();
    for (const v of victims) {
      if (total <= maxRows * 0.8) return;
      this.forget(v.key);
      total -= Number(v.entries);
    }
    if (total > maxRows) this.forget(keep);
  }

  private forget(key: string): void {
    this.sql.exec('DELETE FROM keyword_entry WHERE key = ?', key);
    this.sql.exec('DELETE FROM keyword_state WHERE key = ?', key);
  }

  /** Marks `key` the most recently used row of `table` (a counter above every stamp of the table). */
  private stamp(table: 'keyword_state' | 'unseen_count', key: string): void {
    this.sql.exec(`UPDATE ${table} SET last_used = (SELECT coalesce(max(last_used), 0) + 1 FROM ${table}) WHERE key = ?`, key);
  }

  unseenGet(key: string): UnseenCount | null {
    const r = this.sql.exec<{ count: number; email_state: string }>('SELECT count, email_state FROM unseen_count WHERE key = ?', key).toArray()[0];
    return r ? { count: Number(r.count), emailState: r.email_state } : null;
  }

  /** Remembers `count` for `key` (null forgets it); past `max` counts, the oldest written go. */
  unseenSet(key: string, count: UnseenCount | null, max: number): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('DELETE FROM unseen_count WHERE key = ?', key);
      if (!count) return;
      this.sql.exec('INSERT INTO unseen_count (key, count, email_state, last_used) VALUES (?, ?, ?, 0)', key, count.count, count.emailState);
      this.stamp('unseen_count', key);
      const rows = Number(this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM unseen_count').one().n);
      if (rows > max) this.sql.exec('DELETE FROM unseen_count WHERE key IN (SELECT key FROM unseen_count ORDER BY last_used LIMIT ?)', rows - max);
    });
  }
}
