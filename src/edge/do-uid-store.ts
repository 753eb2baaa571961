/**
 * UidStoreDO: the UID store (src/uidmap/store.ts) as a Durable Object with SQLite storage, one object per account
 * (named `account:<accountKey>`), plus one allocator object (named `uidvalidity`) that issues UIDVALIDITY values for
 * the whole deployment (DESIGN.md rules 1-3, RFC 9051 §2.3.1.1).
 *
 * - A Durable Object runs one event at a time and each method's writes happen in one `transactionSync` with no
 *   await inside, so `assign` is atomic: two gateways (or two sessions) can never get one UID for two messages.
 * - UIDVALIDITY: a new (or reset) mailbox asks the allocator, which returns max(clock seconds, the largest value it
 *   issued + 1, the caller's own largest + 1); values are distinct across all mailboxes of all accounts and only
 *   grow. The await on the allocator happens before the transaction, and the transaction re-checks the mailbox,
 *   so a racing creator's value simply goes unused.
 * - Errors travel as `[CODE] text` (errors.ts): RPC keeps only the message.
 *
 * Methods are RPC (workerd passes Maps and arrays by structured clone); the HTTP API (api.ts) and the Worker's
 * sessions (rpc-uid-store.ts) call them through a stub.
 *
 * The account's object also holds the account's immutable-data cache (`cache*`, do-cache.ts, same SQLite storage),
 * its persisted keywords and UNSEEN counts (`keywords*`, `unseen*`, do-keyword-store.ts)
 * and its one JMAP change watcher with the IDLE fan-out (`waitForChange`, account-watch.ts, memory only).
 */
import { DurableObject } from 'cloudflare:workers';
import type { EmailOrigin, MailboxSnapshot, MailboxUidState, SyncCommit, UidEntry } from '../uidmap/store.ts';
import { MAX_UID, nextUidValidity } from '../uidmap/uidvalidity.ts';
import { ImapError } from '../protocol/errors.ts';
import type { DurableObjectNamespace, DurableObjectState, SqlStorage } from './cf.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './do-schema.ts';
import { encodeStoreError } from './errors.ts';
import type { CachedMessage } from '../cache/message-cache.ts';
import { DoMessageCache } from './do-cache.ts';
import { DoKeywordStore, type KeywordSnapshotWire } from './do-keyword-store.ts';
import type { KeywordWrite, UnseenCount } from '../cache/keyword-store.ts';
import { AccountWatch, type AccountWatchStatus, type WatchCredential } from './account-watch.ts';
import { DEFAULT_WATCH } from '../session/watch.ts';

/** What the object needs from its Worker's environment: its own namespace, to reach the allocator. */
export interface UidStoreEnv {
  UID_STORE: DurableObjectNamespace;
}

/** The name of the deployment-wide UIDVALIDITY allocator object. */
export const ALLOCATOR_NAME = 'uidvalidity';
/** The object name of an account's store. */
export const accountObjectName = (accountKey: string): string => `account:${accountKey}`;

/** The RPC surface of UidStoreDO, as a stub offers it (every call is async over RPC). */
export interface UidStoreRpc {
  issueUidValidity(floor: number): Promise<number>;
  openMailbox(mailboxId: string): Promise<MailboxUidState>;
  assign(mailboxId: string, emailIds: string[]): Promise<Map<string, number>>;
  list(mailboxId: string): Promise<UidEntry[]>;
  snapshot(mailboxId: string): Promise<MailboxSnapshot>;
  commitSync(mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null>;
  /** UidStore.expunge: the UIDs this call removed from the live map, ascending. */
  expunge(mailboxId: string, uids: number[]): Promise<number[]>;
  setSyncState(mailboxId: string, syncState: string): Promise<void>;
  /** UidStore.advanceSyncState: compare-and-set of the recorded Email state after the gateway's own write. */
  advanceSyncState(mailboxId: string, from: string, to: string): Promise<boolean>;
  resetMailbox(mailboxId: string): Promise<void>;
  getDeleted(mailboxId: string): Promise<number[]>;
  touch(mailboxId: string, uids: number[]): Promise<number>;
  vanished(mailboxId: string, sinceModseq: number): Promise<number[]>;
  setDeleted(mailboxId: string, uids: number[], deleted: boolean): Promise<void>;
  /** RFC 8474 §5.1: the ids re-imported copies keep from their sources (account-wide, write-once). */
  setOrigins(origins: Map<string, EmailOrigin>): Promise<void>;
  getOrigins(emailIds: string[]): Promise<Map<string, EmailOrigin>>;
  /** The account's immutable-data cache (do-cache.ts). */
  cacheGet(emailIds: string[]): Promise<CachedMessage[]>;
  cachePut(messages: CachedMessage[], maxBytes: number): Promise<void>;
  cacheSize(): Promise<number>;
  /** The account's persisted keywords and UNSEEN counts (do-keyword-store.ts), per gateway key; bounds per object. */
  keywordsLoad(key: string): Promise<KeywordSnapshotWire | null>;
  keywordsWrite(key: string, w: KeywordWrite, maxRows: number): Promise<void>;
  unseenGet(key: string): Promise<UnseenCount | null>;
  unseenSet(key: string, count: UnseenCount | null, max: number): Promise<void>;
  /** Push fan-out (account-watch.ts): the change counter once it differs from `since`, or at the timeout. */
  waitForChange(since: number, credential: WatchCredential | undefined, timeoutMs: number): Promise<number>;
  watchStatus(): Promise<AccountWatchStatus>;
}

/** Bounds of the fan-out long-poll (ms): sessions ask for LONG_POLL_MS; the object never holds one longer than the max. */
export const LONG_POLL_MS = 25_000;
const MAX_LONG_POLL_MS = 60_000;

/** Warnings of the object's watcher to the Worker log; never credentials. */
const doLogger = {
  debug() {}, info() {},
  warn: (obj: object, msg: string) => console.warn(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj: object, msg: string) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};

/** A `mailbox` row. */
type Box = { mbox: number; uidValidity: number; uidNext: number; syncState: string | null; version: number; highestModseq: number };

const stateOf = ({ uidValidity, uidNext, syncState, version, highestModseq }: Box): MailboxUidState =>
  ({ uidValidity, uidNext, syncState, version, highestModseq });

export class UidStoreDO extends DurableObject<UidStoreEnv> {
  private readonly sql: SqlStorage;
  private cache: DoMessageCache | null = null;
  private keywordStore: DoKeywordStore | null = null;
  private watcher: AccountWatch | null = null;

  constructor(ctx: DurableObjectState, env: UidStoreEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.storage.transactionSync(() => this.migrate());
  }

  private migrate(): void {
    const hasVersion = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray().length > 0;
    const current = hasVersion ? Number(this.sql.exec('SELECT max(version) AS v FROM schema_version').one().v) : 0;
    if (current > SCHEMA_VERSION) throw new Error(`UID store object: schema version ${current} is newer than this code`);
    for (let v = current; v < SCHEMA_VERSION; v++) this.sql.exec(MIGRATIONS[v]!);
    if (current < SCHEMA_VERSION) this.sql.exec('UPDATE schema_version SET version = ?', SCHEMA_VERSION);
  }

  private maxIssued(): number {
    return Number(this.sql.exec('SELECT max_uidvalidity AS m FROM store_meta WHERE id = 1').one().m);
  }

  /** Allocator role: the next UIDVALIDITY of the deployment, above `floor` (the caller's own largest). */
  issueUidValidity(floor: number): number {
    return this.guard(() => this.ctx.storage.transactionSync(() => {
      const v = nextUidValidity(Math.max(this.maxIssued(), floor), Date.now());
      this.sql.exec('UPDATE store_meta SET max_uidvalidity = ? WHERE id = 1', v);
      return v;
    }));
  }

  private box(mailboxId: string): Box | undefined {
    return this.sql.exec<Box>(
      'SELECT m.mbox AS mbox, uid_validity AS uidValidity, uid_next AS uidNext, sync_state AS syncState, coalesce(v.version, 0) AS version, ' +
      'coalesce(h.highest, 1) AS highestModseq FROM mailbox m LEFT JOIN sync_version v ON v.mbox = m.mbox ' +
      'LEFT JOIN mailbox_modseq h ON h.mbox = m.mbox WHERE mailbox_id = ?',
      mailboxId).toArray()[0];
  }

  /** Inside a transaction: the one new mod-sequence of this write, taken on first use (RFC 7162 §3.1). */
  private modseqOnce(mbox: number): () => number {
    let value: number | undefined;
    return () => (value ??= Number(this.sql.exec<{ h: number }>(
      'INSERT INTO mailbox_modseq (mbox, highest) VALUES (?, 2) ON CONFLICT (mbox) DO UPDATE SET highest = highest + 1 RETURNING highest AS h',
      mbox).one().h));
  }

  private setModseq(mbox: number, uid: number, modseq: number): void {
    this.sql.exec('INSERT OR REPLACE INTO uid_modseq (mbox, uid, modseq) VALUES (?, ?, ?)', mbox, uid, modseq);
  }

  private bumpVersion(mbox: number): void {
    this.sql.exec('INSERT INTO sync_version (mbox, version) VALUES (?, 1) ON CONFLICT (mbox) DO UPDATE SET version = version + 1', mbox);
  }

  /**
   * Runs `fn` in one transaction on the mailbox, creating it first when needed (with a UIDVALIDITY fetched from the
   * allocator before the transaction). Retries when a concurrent reset removed the mailbox in between.
   */
  private async write<T>(mailboxId: string, fn: (box: Box) => T): Promise<T> {
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const candidate = this.box(mailboxId) ? null : await this.allocate();
        const done = this.ctx.storage.transactionSync(() => {
          let box = this.box(mailboxId);
          if (!box && candidate !== null) {
            this.sql.exec('UPDATE store_meta SET max_uidvalidity = max(max_uidvalidity, ?) WHERE id = 1', candidate);
            this.sql.exec('INSERT INTO mailbox (mailbox_id, uid_validity, uid_next) VALUES (?, ?, 1)', mailboxId, candidate);
            box = this.box(mailboxId);
          }
          return box ? { value: fn(box) } : null;
        });
        if (done) return done.value;
      }
      throw ImapError.no('UID store busy', 'UNAVAILABLE');
    } catch (err) {
      throw new Error(encodeStoreError(err));
    }
  }

  /** Runs a synchronous read or write, turning any error into its wire form. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new Error(encodeStoreError(err));
    }
  }

  private async allocate(): Promise<number> {
    const ns = this.env.UID_STORE;
    const allocator = ns.get(ns.idFromName(ALLOCATOR_NAME)) as unknown as UidStoreRpc;
    return allocator.issueUidValidity(this.maxIssued());
  }

  async openMailbox(mailboxId: string): Promise<MailboxUidState> {
    return stateOf(this.box(mailboxId) ?? await this.write(mailboxId, (b) => b));
  }

  async assign(mailboxId: string, emailIds: string[]): Promise<Map<string, number>> {
    return this.write(mailboxId, (box) => this.assignIn(box, emailIds, this.modseqOnce(box.mbox)));
  }

  async snapshot(mailboxId: string): Promise<MailboxSnapshot> {
    // The object runs one event at a time and these reads do not await: state and entries are of one instant.
    const state = await this.openMailbox(mailboxId);
    const rows = this.guard(() => this.sql.exec<{ uid: number; emailId: string; modseq: number }>(
      'SELECT u.uid AS uid, u.email_id AS emailId, coalesce(q.modseq, 1) AS modseq FROM uid_map u JOIN mailbox m ON m.mbox = u.mbox ' +
      'LEFT JOIN uid_modseq q ON q.mbox = u.mbox AND q.uid = u.uid WHERE m.mailbox_id = ? ORDER BY u.uid', mailboxId).toArray());
    return { ...state, entries: rows.map((r) => ({ uid: r.uid, emailId: r.emailId })), modseqs: rows.map((r) => Number(r.modseq)) };
  }

  async commitSync(mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null> {
    return this.write(mailboxId, (box) => {
      if (box.version !== c.version) return null;
      const modseq = this.modseqOnce(box.mbox);
      this.expungeIn(box.mbox, c.expunge, Date.now(), modseq);
      const assigned = this.assignIn(box, c.assign, modseq);
      this.touchIn(box.mbox, (c.touch ?? []).flatMap((id) => this.uidOf(box.mbox, id) ?? []), modseq);
      this.sql.exec('UPDATE mailbox SET sync_state = ? WHERE mbox = ?', c.syncState, box.mbox);
      this.bumpVersion(box.mbox);
      return { state: stateOf(this.box(mailboxId)!), assigned };
    });
  }

  /** `assign` inside a transaction. */
  private uidOf(mbox: number, emailId: string): number | undefined {
    return this.sql.exec<{ uid: number }>('SELECT uid FROM uid_map WHERE mbox = ? AND email_id = ?', mbox, emailId).toArray()[0]?.uid;
  }

  /** `touch` inside a transaction: the live ones of `uids` get the write's mod-sequence. */
  private touchIn(mbox: number, uids: number[], modseq: () => number): void {
    for (const uid of uids) {
      if (this.sql.exec('SELECT 1 FROM uid_map WHERE mbox = ? AND uid = ?', mbox, uid).toArray().length > 0) this.setModseq(mbox, uid, modseq());
    }
  }

  async touch(mailboxId: string, uids: number[]): Promise<number> {
    return this.write(mailboxId, (box) => {
      this.touchIn(box.mbox, uids, this.modseqOnce(box.mbox));
      return this.box(mailboxId)!.highestModseq;
    });
  }

  vanished(mailboxId: string, sinceModseq: number): number[] {
    return this.guard(() => this.sql.exec<{ uid: number }>(
      'SELECT e.uid AS uid FROM expunged e JOIN mailbox m ON m.mbox = e.mbox LEFT JOIN uid_modseq q ON q.mbox = e.mbox AND q.uid = e.uid ' +
      'WHERE m.mailbox_id = ? AND coalesce(q.modseq, 1) > ? ORDER BY e.uid', mailboxId, sinceModseq).toArray().map((r) => r.uid));
  }

  private assignIn(box: Box, emailIds: string[], modseq: () => number): Map<string, number> {
    {
      const out = new Map<string, number>();
      let next = box.uidNext;
      for (const id of emailIds) {
        if (out.has(id)) continue;
        const row = this.sql.exec<{ uid: number }>('SELECT uid FROM uid_map WHERE mbox = ? AND email_id = ?', box.mbox, id).toArray()[0];
        let uid = row?.uid;
        if (uid === undefined) {
          if (next > MAX_UID) throw ImapError.no('UID space of this mailbox is exhausted', 'LIMIT');
          uid = next++;
          this.sql.exec('INSERT INTO uid_map (mbox, uid, email_id) VALUES (?, ?, ?)', box.mbox, uid, id);
          this.setModseq(box.mbox, uid, modseq());
        }
        out.set(id, uid);
      }
      if (next !== box.uidNext) this.sql.exec('UPDATE mailbox SET uid_next = ? WHERE mbox = ?', next, box.mbox);
      return out;
    }
  }

  /** `expunge` inside a transaction; bumps the sync version once when a live entry went. Returns the removed UIDs ascending. */
  private expungeIn(mbox: number, uids: number[], at: number, modseq: () => number): number[] {
    const removed: number[] = [];
    for (const uid of uids) {
      const row = this.sql.exec<{ emailId: string }>('SELECT email_id AS emailId FROM uid_map WHERE mbox = ? AND uid = ?', mbox, uid).toArray()[0];
      if (!row) continue;
      this.sql.exec('DELETE FROM uid_map WHERE mbox = ? AND uid = ?', mbox, uid);
      this.sql.exec('DELETE FROM deleted_flag WHERE mbox = ? AND uid = ?', mbox, uid);
      this.sql.exec('INSERT OR REPLACE INTO expunged (mbox, uid, email_id, expunged_at) VALUES (?, ?, ?, ?)', mbox, uid, row.emailId, at);
      this.setModseq(mbox, uid, modseq());
      removed.push(uid);
    }
    if (removed.length > 0) this.bumpVersion(mbox);
    return removed.sort((a, b) => a - b);
  }

  list(mailboxId: string): UidEntry[] {
    return this.guard(() => this.sql.exec<{ uid: number; emailId: string }>(
      'SELECT u.uid AS uid, u.email_id AS emailId FROM uid_map u JOIN mailbox m ON m.mbox = u.mbox WHERE m.mailbox_id = ? ORDER BY u.uid',
      mailboxId).toArray().map((r) => ({ uid: r.uid, emailId: r.emailId })));
  }

  /** One transaction with no await: an unknown mailbox has nothing live and is not created (no allocator call). */
  expunge(mailboxId: string, uids: number[]): number[] {
    const at = Date.now();
    return this.guard(() => this.ctx.storage.transactionSync(() => {
      const box = this.box(mailboxId);
      return box ? this.expungeIn(box.mbox, uids, at, this.modseqOnce(box.mbox)) : [];
    }));
  }

  async setSyncState(mailboxId: string, syncState: string): Promise<void> {
    await this.write(mailboxId, (box) => {
      if (box.syncState === syncState) return;
      this.sql.exec('UPDATE mailbox SET sync_state = ? WHERE mbox = ?', syncState, box.mbox);
      this.bumpVersion(box.mbox);
    });
  }

  advanceSyncState(mailboxId: string, from: string, to: string): boolean {
    return this.guard(() => this.ctx.storage.transactionSync(() => {
      const box = this.box(mailboxId);
      if (!box || box.syncState !== from) return false;
      if (from === to) return true;
      this.sql.exec('UPDATE mailbox SET sync_state = ? WHERE mbox = ?', to, box.mbox);
      this.bumpVersion(box.mbox);
      return true;
    }));
  }

  resetMailbox(mailboxId: string): void {
    this.guard(() => this.ctx.storage.transactionSync(() => {
      const box = this.box(mailboxId);
      if (!box) return;
      for (const table of ['uid_map', 'expunged', 'deleted_flag', 'sync_version', 'mailbox_modseq', 'uid_modseq', 'mailbox']) this.sql.exec(`DELETE FROM ${table} WHERE mbox = ?`, box.mbox);
    }));
  }

  getDeleted(mailboxId: string): number[] {
    return this.guard(() => this.sql.exec<{ uid: number }>(
      'SELECT d.uid AS uid FROM deleted_flag d JOIN mailbox m ON m.mbox = d.mbox WHERE m.mailbox_id = ?', mailboxId)
      .toArray().map((r) => r.uid));
  }

  async setDeleted(mailboxId: string, uids: number[], deleted: boolean): Promise<void> {
    await this.write(mailboxId, (box) => {
      for (const uid of uids) {
        if (deleted) this.sql.exec('INSERT OR IGNORE INTO deleted_flag (mbox, uid) SELECT mbox, uid FROM uid_map WHERE mbox = ? AND uid = ?', box.mbox, uid);
        else this.sql.exec('DELETE FROM deleted_flag WHERE mbox = ? AND uid = ?', box.mbox, uid);
      }
    });
  }

  /** RFC 8474 §5.1: records the origins of re-imported copies in one transaction; an id with an origin keeps it. */
  setOrigins(origins: Map<string, EmailOrigin>): void {
    this.guard(() => this.ctx.storage.transactionSync(() => {
      for (const [id, o] of origins) {
        this.sql.exec('INSERT OR IGNORE INTO email_origin (email_id, origin_id, thread_id) VALUES (?, ?, ?)', id, o.emailId, o.threadId);
      }
    }));
  }

  /** The recorded origins of those `emailIds` that have one (one query: the ids travel as one JSON parameter). */
  getOrigins(emailIds: string[]): Map<string, EmailOrigin> {
    return this.guard(() => new Map(this.sql.exec<{ id: string; emailId: string; threadId: string }>(
      'SELECT email_id AS id, origin_id AS emailId, thread_id AS threadId FROM email_origin WHERE email_id IN (SELECT value FROM json_each(?))',
      JSON.stringify(emailIds)).toArray().map((r) => [r.id, { emailId: r.emailId, threadId: r.threadId }] as const)));
  }

  cacheGet(emailIds: string[]): CachedMessage[] {
    return this.guard(() => (this.cache ??= new DoMessageCache(this.ctx)).get(emailIds));
  }

  cachePut(messages: CachedMessage[], maxBytes: number): void {
    this.guard(() => (this.cache ??= new DoMessageCache(this.ctx)).put(messages, maxBytes));
  }

  cacheSize(): number {
    return this.guard(() => (this.cache ??= new DoMessageCache(this.ctx)).size());
  }

  private keywords(): DoKeywordStore {
    return (this.keywordStore ??= new DoKeywordStore(this.ctx));
  }

  keywordsLoad(key: string): KeywordSnapshotWire | null {
    return this.guard(() => this.keywords().load(key));
  }

  keywordsWrite(key: string, w: KeywordWrite, maxRows: number): void {
    this.guard(() => this.keywords().write(key, w, maxRows));
  }

  unseenGet(key: string): UnseenCount | null {
    return this.guard(() => this.keywords().unseenGet(key));
  }

  unseenSet(key: string, count: UnseenCount | null, max: number): void {
    this.guard(() => this.keywords().unseenSet(key, count, max));
  }

  waitForChange(since: number, credential: WatchCredential | undefined, timeoutMs: number): Promise<number> {
    this.watcher ??= new AccountWatch({ watch: DEFAULT_WATCH, logger: doLogger, graceMs: 60_000, maxCredentials: 4 });
    return this.watcher.wait(since, credential, Math.min(Math.max(timeoutMs, 0), MAX_LONG_POLL_MS));
  }

  watchStatus(): AccountWatchStatus {
    return this.watcher?.status() ?? { version: 0, waiters: 0, credentials: 0, mode: 'stopped' };
  }
}
