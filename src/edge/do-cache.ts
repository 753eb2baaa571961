/**
 * The immutable-data cache (src/cache/message-cache.ts, DESIGN.md rule 9) inside an account's UidStoreDO: one table
 * in the object's SQLite storage (do-schema.ts), keyed by email id (the object is the account). Bounded by bytes per
 * account: when a put goes over the bound, least recently used entries are dropped down to 80% of it, as the Node
 * SQLite cache does. Reads touch the entries they return (one statement per batch).
 */
import type { CachedMessage } from '../cache/message-cache.ts';
import { entryBytes } from '../cache/message-cache.ts';
import type { DurableObjectState, SqlStorage } from './cf.ts';

/** A `message_cache` row as SQL gives it back (BLOBs come back as ArrayBuffer). */
type Row = { email_id: string; blob_id: string; thread_id: string; size: number; received_at: string; header: ArrayBuffer };

export class DoMessageCache {
  private readonly sql: SqlStorage;
  /** Bytes held and the LRU clock, read once from storage on first use. */
  private totals: { bytes: number; tick: number } | null = null;

  constructor(private readonly ctx: DurableObjectState) {
    this.sql = ctx.storage.sql;
  }

  private state(): { bytes: number; tick: number } {
    return (this.totals ??= (() => {
      const r = this.sql.exec<{ b: number; t: number }>('SELECT coalesce(sum(bytes), 0) AS b, coalesce(max(last_used), 0) AS t FROM message_cache').one();
      return { bytes: Number(r.b), tick: Number(r.t) };
    })());
  }

  get(emailIds: string[]): CachedMessage[] {
    if (emailIds.length === 0) return [];
    const ids = JSON.stringify(emailIds);
    const st = this.state();
    const now = ++st.tick;
    return this.ctx.storage.transactionSync(() => {
      const rows = this.sql.exec<Row>('SELECT email_id, blob_id, thread_id, size, received_at, header FROM message_cache ' +
        'WHERE email_id IN (SELECT value FROM json_each(?))', ids).toArray();
      if (rows.length > 0) this.sql.exec('UPDATE message_cache SET last_used = ? WHERE email_id IN (SELECT value FROM json_each(?))', now, ids);
      return rows.map((r) => ({
        emailId: r.email_id, blobId: r.blob_id, threadId: r.thread_id, size: Number(r.size), receivedAt: r.received_at,
        header: new Uint8Array(r.header),
      }));
    });
  }

  /** Stores the entries, then evicts down to 80% of `maxBytes` when over it. */
  put(messages: CachedMessage[], maxBytes: number): void {
    if (messages.length === 0) return;
    const st = this.state();
    const now = ++st.tick;
    try {
      this.putIn(messages, maxBytes, now);
    } catch (err) {
      this.totals = null; // the transaction rolled back: count again from storage
      throw err;
    }
  }

  private putIn(messages: CachedMessage[], maxBytes: number, now: number): void {
    const st = this.state();
    this.ctx.storage.transactionSync(() => {
      for (const m of messages) {
        const bytes = entryBytes(m);
        const prev = this.sql.exec<{ bytes: number }>('SELECT bytes FROM message_cache WHERE email_id = ?', m.emailId).toArray()[0];
        this.sql.exec('INSERT OR REPLACE INTO message_cache (email_id, blob_id, thread_id, size, received_at, header, bytes, last_used) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?)', m.emailId, m.blobId, m.threadId, m.size, m.receivedAt, m.header.slice().buffer, bytes, now);
        st.bytes += bytes - Number(prev?.bytes ?? 0);
      }
      if (st.bytes > maxBytes) this.evict(maxBytes * 0.8);
    });
  }

  private evict(target: number): void {
    const st = this.state();
    while (st.bytes > target) {
      const rows = this.sql.exec<{ email_id: string; bytes: number }>('SELECT email_id, bytes FROM message_cache ORDER BY last_used LIMIT 500').toArray();
      if (rows.length === 0) break;
      for (const r of rows) {
        if (st.bytes <= target) break;
        this.sql.exec('DELETE FROM message_cache WHERE email_id = ?', r.email_id);
        st.bytes -= Number(r.bytes);
      }
    }
  }

  size(): number {
    return this.state().bytes;
  }
}
