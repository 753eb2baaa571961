/**
 * SqliteUidStore: the default UidStore on Node (better-sqlite3), safe to share between gateway processes on one
 * machine through one database file (DESIGN.md rules 1-3).
 *
 * - WAL journal, `busy_timeout`. Durability: a write whose loss nothing could re-derive commits with
 *   `synchronous=FULL` (fsync) before any client sees it: UIDs handed out (`assign`, a sync's commit that assigns;
 *   DESIGN.md rule 1), removals (`expunge`, a commit that expunges: a lost one would bring an expunged UID back if
 *   the email returned before the next sync, RFC 9051 §2.3.1.1), `\Deleted` and the gateway's own `touch` (they live
 *   only here), a new UIDVALIDITY, `resetMailbox`, `setOrigins`. What JMAP can give again commits with
 *   `synchronous=NORMAL`, no fsync: the recorded sync state (`advanceSyncState`, `setSyncState`) and a sync's commit
 *   of other writers' keyword changes. A process crash loses nothing (the WAL is in the OS); a power loss can lose
 *   the last of them, never out of order (the WAL is replayed as a prefix, and every fsync covers the writes before
 *   it), and the next sync re-derives them from JMAP since the older state that went back with them, except
 *   mod-sequences: a client may have seen one. So every mod-sequence issued is at most the mailbox's durable `ceiling` (a normal write that
 *   would pass it becomes a FULL one that raises it by CEILING_STEP), and after an OS restart (Linux boot_id
 *   changed since the store was last opened) `highest` jumps to `ceiling` before any write: a lost mod-sequence
 *   is never reused for another change (RFC 7162 §3.1: strictly increasing as clients saw them).
 * - Every write is one `BEGIN IMMEDIATE` transaction: the write lock is taken before reading `uid_next`, so two
 *   processes can never read the same `uid_next` and hand out one UID twice.
 * - Schema: a fresh file gets schema/uidmap.sql; an older one gets the pending schema/migrations/NNN-*.sql, all in
 *   one transaction at open (`schema_version` records the version).
 * better-sqlite3 is synchronous, so within one process each call also runs without interleaving.
 */
import Database from 'better-sqlite3';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ImapError } from '../protocol/errors.ts';
import type { EmailOrigin, MailboxSnapshot, MailboxUidState, SyncCommit, UidEntry, UidStore } from './store.ts';
import { nextUidValidity, MAX_UID } from './uidvalidity.ts';

const SCHEMA_DIR = fileURLToPath(new URL('../../schema/', import.meta.url));

export interface SqliteUidStoreOptions {
  /** Clock in ms since the epoch (tests inject one to check the UIDVALIDITY seed). */
  now?: () => number;
  /** How long a transaction waits for another process's write lock before failing (ms). Default 5000. */
  busyTimeoutMs?: number;
}

/** A numbered migration file `NNN-name.sql` of schema/migrations. */
interface Migration { version: number; sql: string }

function loadMigrations(): Migration[] {
  return readdirSync(`${SCHEMA_DIR}migrations`)
    .map((name) => ({ name, m: /^(\d{3})-.+\.sql$/.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ version: Number(m[1]), sql: readFileSync(`${SCHEMA_DIR}migrations/${name}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Synchronous sleep (open-time retries only; better-sqlite3 is synchronous anyway). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `fn`, retrying while SQLite reports the database busy/locked (switching to WAL can bypass busy_timeout). */
function retryBusy<T>(fn: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw err;
      if (Date.now() > deadline) throw err;
      sleepSync(10 + Math.random() * 20);
    }
  }
}

/**
 * Brings the schema to the latest migration in one IMMEDIATE transaction: a fresh database gets uidmap.sql, an
 * older one its pending migrations. Refuses databases of unknown or newer schemas.
 */
function migrate(db: Database.Database, timeoutMs: number): void {
  const migrations = loadMigrations();
  const latest = migrations.at(-1)?.version ?? 0;
  const run = db.transaction(() => {
    const hasVersionTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
    if (!hasVersionTable) {
      const objects = db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
      if (objects > 0) throw new Error('UID store: database has tables but no schema_version; refusing to touch it');
      db.exec(readFileSync(`${SCHEMA_DIR}uidmap.sql`, 'utf8'));
    } else {
      const current = (db.prepare('SELECT max(version) FROM schema_version').pluck().get() as number | null) ?? 0;
      if (current > latest) throw new Error(`UID store: schema version ${current} is newer than this code (${latest})`);
      for (const m of migrations) if (m.version > current) db.exec(m.sql);
      if (current < latest) db.prepare('UPDATE schema_version SET version = ?').run(latest);
    }
    const version = db.prepare('SELECT max(version) FROM schema_version').pluck().get();
    if (version !== latest) throw new Error(`UID store: schema/uidmap.sql is version ${String(version)}, migrations reach ${latest}`);
  });
  retryBusy(() => run.immediate(), timeoutMs);
}

/** How far a FULL write raises a mailbox's mod-sequence `ceiling` past its HIGHESTMODSEQ (see the header). */
const CEILING_STEP = 1_000;

/** Thrown inside a normal (unsynced) write that must be durable after all; `write` runs it again with FULL. */
const NEEDS_FSYNC = Symbol('needs fsync');

/** The OS boot this process runs in (Linux), null when unknown: then every open counts as after a restart. */
function bootId(): string | null {
  try { return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null; } catch { return null; }
}

/**
 * After an OS restart (or where the boot is unknown), every mailbox's HIGHESTMODSEQ jumps to its durable ceiling
 * (see the header), in one FULL transaction, and the boot is recorded.
 */
function raiseAfterReboot(db: Database.Database, timeoutMs: number): void {
  const boot = bootId();
  const run = db.transaction(() => {
    if (boot !== null && db.prepare('SELECT boot_id FROM store_meta WHERE id = 1').pluck().get() === boot) return;
    db.prepare('UPDATE mailbox_modseq SET highest = ceiling WHERE ceiling > highest').run();
    db.prepare('UPDATE store_meta SET boot_id = ? WHERE id = 1').run(boot);
  });
  retryBusy(() => run.immediate(), timeoutMs);
}

/** The `mailbox` table row of one (account, mailbox). */
interface MailboxRow { mbox: number; uidValidity: number; uidNext: number; syncState: string | null; version: number; highestModseq: number }

/** A live entry with its mod-sequence (RFC 7162 §3.1). */
interface EntryRow extends UidEntry { modseq: number }

export class SqliteUidStore implements UidStore {
  private readonly now: () => number;
  private readonly q;

  private constructor(private readonly db: Database.Database, options: SqliteUidStoreOptions) {
    this.now = options.now ?? Date.now;
    this.q = {
      mailbox: db.prepare<[string, string], MailboxRow>(
        'SELECT m.mbox AS mbox, uid_validity AS uidValidity, uid_next AS uidNext, sync_state AS syncState, coalesce(v.version, 0) AS version, ' +
        'coalesce(h.highest, 1) AS highestModseq FROM mailbox m LEFT JOIN sync_version v ON v.mbox = m.mbox ' +
        'LEFT JOIN mailbox_modseq h ON h.mbox = m.mbox WHERE account = ? AND mailbox_id = ?'),
      bumpModseq: db.prepare<[number], { highest: number; ceiling: number }>(
        'INSERT INTO mailbox_modseq (mbox, highest) VALUES (?, 2) ON CONFLICT (mbox) DO UPDATE SET highest = highest + 1 RETURNING highest, ceiling'),
      setCeiling: db.prepare<[number, number]>('UPDATE mailbox_modseq SET ceiling = ? WHERE mbox = ?'),
      syncFull: db.prepare('PRAGMA synchronous = FULL'),
      syncNormal: db.prepare('PRAGMA synchronous = NORMAL'),
      setModseq: db.prepare<[number, number, number]>('INSERT OR REPLACE INTO uid_modseq (mbox, uid, modseq) VALUES (?, ?, ?)'),
      entries: db.prepare<[string, string], EntryRow>(
        'SELECT u.uid AS uid, u.email_id AS emailId, coalesce(q.modseq, 1) AS modseq FROM uid_map u JOIN mailbox m ON m.mbox = u.mbox ' +
        'LEFT JOIN uid_modseq q ON q.mbox = u.mbox AND q.uid = u.uid WHERE m.account = ? AND m.mailbox_id = ? ORDER BY u.uid'),
      vanished: db.prepare<[string, string, number], number>(
        'SELECT e.uid FROM expunged e JOIN mailbox m ON m.mbox = e.mbox LEFT JOIN uid_modseq q ON q.mbox = e.mbox AND q.uid = e.uid ' +
        'WHERE m.account = ? AND m.mailbox_id = ? AND coalesce(q.modseq, 1) > ? ORDER BY e.uid').pluck(),
      dropModseqs: db.prepare<[number]>('DELETE FROM uid_modseq WHERE mbox = ?'),
      dropHighest: db.prepare<[number]>('DELETE FROM mailbox_modseq WHERE mbox = ?'),
      bumpVersion: db.prepare<[number]>(
        'INSERT INTO sync_version (mbox, version) VALUES (?, 1) ON CONFLICT (mbox) DO UPDATE SET version = version + 1'),
      dropVersion: db.prepare<[number]>('DELETE FROM sync_version WHERE mbox = ?'),
      maxValidity: db.prepare<[], number>('SELECT max_uidvalidity FROM store_meta WHERE id = 1').pluck(),
      setMaxValidity: db.prepare<[number]>('UPDATE store_meta SET max_uidvalidity = ? WHERE id = 1'),
      insertMailbox: db.prepare<[string, string, number]>(
        'INSERT INTO mailbox (account, mailbox_id, uid_validity, uid_next) VALUES (?, ?, ?, 1)'),
      uidOf: db.prepare<[number, string], number>('SELECT uid FROM uid_map WHERE mbox = ? AND email_id = ?').pluck(),
      emailOf: db.prepare<[number, number], string>('SELECT email_id FROM uid_map WHERE mbox = ? AND uid = ?').pluck(),
      insertUid: db.prepare<[number, number, string]>('INSERT INTO uid_map (mbox, uid, email_id) VALUES (?, ?, ?)'),
      setUidNext: db.prepare<[number, number]>('UPDATE mailbox SET uid_next = ? WHERE mbox = ?'),
      list: db.prepare<[string, string], UidEntry>(
        'SELECT u.uid AS uid, u.email_id AS emailId FROM uid_map u JOIN mailbox m ON m.mbox = u.mbox WHERE m.account = ? AND m.mailbox_id = ? ORDER BY u.uid'),
      deleteUid: db.prepare<[number, number]>('DELETE FROM uid_map WHERE mbox = ? AND uid = ?'),
      recordExpunge: db.prepare<[number, number, string, number]>(
        'INSERT OR REPLACE INTO expunged (mbox, uid, email_id, expunged_at) VALUES (?, ?, ?, ?)'),
      setSync: db.prepare<[string, number]>('UPDATE mailbox SET sync_state = ? WHERE mbox = ?'),
      getDeleted: db.prepare<[string, string], number>(
        'SELECT d.uid FROM deleted_flag d JOIN mailbox m ON m.mbox = d.mbox WHERE m.account = ? AND m.mailbox_id = ?').pluck(),
      flagDeleted: db.prepare<[number, number]>(
        'INSERT OR IGNORE INTO deleted_flag (mbox, uid) SELECT mbox, uid FROM uid_map WHERE mbox = ? AND uid = ?'),
      unflagDeleted: db.prepare<[number, number]>('DELETE FROM deleted_flag WHERE mbox = ? AND uid = ?'),
      dropMap: db.prepare<[number]>('DELETE FROM uid_map WHERE mbox = ?'),
      dropExpunged: db.prepare<[number]>('DELETE FROM expunged WHERE mbox = ?'),
      dropDeleted: db.prepare<[number]>('DELETE FROM deleted_flag WHERE mbox = ?'),
      dropMailbox: db.prepare<[number]>('DELETE FROM mailbox WHERE mbox = ?'),
      setOrigin: db.prepare<[string, string, string, string]>(
        'INSERT OR IGNORE INTO email_origin (account, email_id, origin_id, thread_id) VALUES (?, ?, ?, ?)'),
      getOrigin: db.prepare<[string, string], EmailOrigin>(
        'SELECT origin_id AS emailId, thread_id AS threadId FROM email_origin WHERE account = ? AND email_id = ?'),
    };
  }

  /** Opens (creating or migrating) the store at `path`; `:memory:` gives a private in-memory database. */
  static open(path: string, options: SqliteUidStoreOptions = {}): SqliteUidStore {
    const timeout = options.busyTimeoutMs ?? 5000;
    const db = new Database(path, { timeout });
    try {
      db.pragma(`busy_timeout = ${timeout}`);
      retryBusy(() => db.pragma('journal_mode = WAL'), timeout);
      db.pragma('synchronous = FULL');
      migrate(db, timeout);
      raiseAfterReboot(db, timeout);
      return new SqliteUidStore(db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The mailbox row, created with a fresh UIDVALIDITY on first sight. Call inside an IMMEDIATE transaction. */
  private ensureMailbox(account: string, mailboxId: string): MailboxRow {
    const row = this.q.mailbox.get(account, mailboxId);
    if (row) return row;
    if (!this.fsync) throw NEEDS_FSYNC; // a new UIDVALIDITY must be durable
    const uidValidity = nextUidValidity(this.q.maxValidity.get() ?? 0, this.now());
    this.q.setMaxValidity.run(uidValidity);
    const mbox = Number(this.q.insertMailbox.run(account, mailboxId, uidValidity).lastInsertRowid);
    return { mbox, uidValidity, uidNext: 1, syncState: null, version: 0, highestModseq: 1 };
  }

  /** Whether the running (or next) write commits with `synchronous=FULL` (see the header). */
  private fsync = true;

  /**
   * Runs `fn` in one BEGIN IMMEDIATE transaction; SQLite errors become `NO [UNAVAILABLE]`. `durable`: committed with
   * an fsync; otherwise without, unless `fn` finds it must be (NEEDS_FSYNC: run again with one).
   */
  private write<T>(fn: () => T, durable = false): T {
    try {
      if (!durable) {
        try {
          return this.writeAt(false, fn);
        } catch (err) {
          if (err !== NEEDS_FSYNC) throw err;
        }
      }
      return this.writeAt(true, fn);
    } catch (err) {
      if (err instanceof ImapError) throw err;
      throw ImapError.no(`UID store unavailable: ${(err as Error).message}`, 'UNAVAILABLE');
    }
  }

  private writeAt<T>(fsync: boolean, fn: () => T): T {
    if (this.fsync !== fsync) (fsync ? this.q.syncFull : this.q.syncNormal).run();
    this.fsync = fsync;
    return this.db.transaction(fn).immediate();
  }

  /** Runs a read; SQLite errors become `NO [UNAVAILABLE]`. */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw ImapError.no(`UID store unavailable: ${(err as Error).message}`, 'UNAVAILABLE');
    }
  }

  async openMailbox(account: string, mailboxId: string): Promise<MailboxUidState> {
    const row = this.read(() => this.q.mailbox.get(account, mailboxId)) ?? this.write(() => this.ensureMailbox(account, mailboxId));
    return stateOf(row);
  }

  async assign(account: string, mailboxId: string, emailIds: string[]): Promise<Map<string, number>> {
    return this.write(() => {
      const box = this.ensureMailbox(account, mailboxId);
      return this.assignIn(box, emailIds, this.modseqOnce(box.mbox));
    }, true);
  }

  /** Inside a write transaction: the one new mod-sequence of this write, taken on first use (RFC 7162 §3.1). */
  private modseqOnce(mbox: number): () => number {
    let value: number | undefined;
    return () => (value ??= this.nextModseq(mbox));
  }

  /** The next mod-sequence, within the durable ceiling: a FULL write raises it when it is near (see the header). */
  private nextModseq(mbox: number): number {
    const { highest, ceiling } = this.q.bumpModseq.get(mbox)!;
    if (highest > ceiling && !this.fsync) throw NEEDS_FSYNC;
    if (this.fsync && ceiling - highest < CEILING_STEP / 2) this.q.setCeiling.run(highest + CEILING_STEP, mbox);
    return highest;
  }

  /** `assign` inside a write transaction. */
  private assignIn(box: MailboxRow, emailIds: string[], modseq: () => number): Map<string, number> {
    {
      const out = new Map<string, number>();
      let next = box.uidNext;
      for (const id of emailIds) {
        if (out.has(id)) continue;
        let uid = this.q.uidOf.get(box.mbox, id);
        if (uid === undefined) {
          if (next > MAX_UID) throw ImapError.no('UID space of this mailbox is exhausted', 'LIMIT');
          uid = next++;
          this.q.insertUid.run(box.mbox, uid, id);
          this.q.setModseq.run(box.mbox, uid, modseq());
        }
        out.set(id, uid);
      }
      if (next !== box.uidNext) this.q.setUidNext.run(next, box.mbox);
      return out;
    }
  }

  async snapshot(account: string, mailboxId: string): Promise<MailboxSnapshot> {
    await this.openMailbox(account, mailboxId);
    // One read transaction (WAL snapshot isolation): state and entries as of one instant.
    return this.read(() => this.db.transaction(() => {
      const row = this.q.mailbox.get(account, mailboxId)!;
      const rows = this.q.entries.all(account, mailboxId);
      return { ...stateOf(row), entries: rows.map(({ uid, emailId }) => ({ uid, emailId })), modseqs: rows.map((e) => e.modseq) };
    }).deferred());
  }

  async commitSync(account: string, mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null> {
    return this.write(() => {
      const box = this.ensureMailbox(account, mailboxId);
      if (box.version !== c.version) return null;
      const modseq = this.modseqOnce(box.mbox);
      this.expungeIn(box.mbox, c.expunge, modseq);
      const assigned = this.assignIn(box, c.assign, modseq);
      this.touchIn(box.mbox, (c.touch ?? []).flatMap((id) => this.q.uidOf.get(box.mbox, id) ?? []), modseq);
      this.q.setSync.run(c.syncState, box.mbox);
      this.q.bumpVersion.run(box.mbox);
      return { state: stateOf(this.q.mailbox.get(account, mailboxId)!), assigned };
    }, c.assign.length + c.expunge.length > 0);
  }

  async list(account: string, mailboxId: string): Promise<UidEntry[]> {
    return this.read(() => this.q.list.all(account, mailboxId));
  }

  async expunge(account: string, mailboxId: string, uids: number[]): Promise<number[]> {
    const at = this.now();
    return this.write(() => {
      const box = this.q.mailbox.get(account, mailboxId); // an unknown mailbox has nothing live: not created
      return box ? this.expungeIn(box.mbox, uids, this.modseqOnce(box.mbox), at) : [];
    }, true);
  }

  /** `expunge` inside a write transaction; bumps the sync version once when a live entry went. Returns the removed UIDs ascending. */
  private expungeIn(mbox: number, uids: number[], modseq: () => number, at = this.now()): number[] {
    const removed: number[] = [];
    for (const uid of uids) {
      const emailId = this.q.emailOf.get(mbox, uid);
      if (emailId === undefined) continue;
      this.q.deleteUid.run(mbox, uid);
      this.q.unflagDeleted.run(mbox, uid);
      this.q.recordExpunge.run(mbox, uid, emailId, at);
      this.q.setModseq.run(mbox, uid, modseq());
      removed.push(uid);
    }
    if (removed.length > 0) this.q.bumpVersion.run(mbox);
    return removed.sort((a, b) => a - b);
  }

  /** `touch` inside a write transaction: the live ones of `uids` get the write's mod-sequence. */
  private touchIn(mbox: number, uids: number[], modseq: () => number): void {
    for (const uid of uids) if (this.q.emailOf.get(mbox, uid) !== undefined) this.q.setModseq.run(mbox, uid, modseq());
  }

  async touch(account: string, mailboxId: string, uids: number[]): Promise<number> {
    return this.write(() => {
      const box = this.ensureMailbox(account, mailboxId);
      this.touchIn(box.mbox, uids, this.modseqOnce(box.mbox));
      return stateOf(this.q.mailbox.get(account, mailboxId)!).highestModseq;
    }, true);
  }

  async vanished(account: string, mailboxId: string, sinceModseq: number): Promise<number[]> {
    return this.read(() => this.q.vanished.all(account, mailboxId, sinceModseq));
  }

  async setSyncState(account: string, mailboxId: string, syncState: string): Promise<void> {
    this.write(() => {
      const box = this.ensureMailbox(account, mailboxId);
      if (box.syncState === syncState) return;
      this.q.setSync.run(syncState, box.mbox);
      this.q.bumpVersion.run(box.mbox);
    });
  }

  async advanceSyncState(account: string, mailboxId: string, from: string, to: string): Promise<boolean> {
    return this.write(() => {
      const box = this.q.mailbox.get(account, mailboxId);
      if (!box || box.syncState !== from) return false;
      if (from === to) return true;
      this.q.setSync.run(to, box.mbox);
      this.q.bumpVersion.run(box.mbox);
      return true;
    });
  }

  async resetMailbox(account: string, mailboxId: string): Promise<void> {
    this.write(() => {
      const row = this.q.mailbox.get(account, mailboxId);
      if (!row) return;
      for (const stmt of [this.q.dropMap, this.q.dropExpunged, this.q.dropModseqs, this.q.dropHighest, this.q.dropDeleted, this.q.dropVersion, this.q.dropMailbox]) stmt.run(row.mbox);
    }, true);
  }

  async getDeleted(account: string, mailboxId: string): Promise<Set<number>> {
    return new Set(this.read(() => this.q.getDeleted.all(account, mailboxId)));
  }

  async setDeleted(account: string, mailboxId: string, uids: number[], deleted: boolean): Promise<void> {
    if (uids.length === 0) return;
    this.write(() => {
      const { mbox } = this.ensureMailbox(account, mailboxId);
      const stmt = deleted ? this.q.flagDeleted : this.q.unflagDeleted;
      for (const uid of uids) stmt.run(mbox, uid);
    }, true);
  }

  async setOrigins(account: string, origins: Map<string, EmailOrigin>): Promise<void> {
    this.write(() => {
      for (const [id, o] of origins) this.q.setOrigin.run(account, id, o.emailId, o.threadId);
    }, true);
  }

  async getOrigins(account: string, emailIds: string[]): Promise<Map<string, EmailOrigin>> {
    return this.read(() => new Map(emailIds.flatMap((id) => {
      const o = this.q.getOrigin.get(account, id);
      return o ? [[id, { emailId: o.emailId, threadId: o.threadId }] as const] : [];
    })));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function stateOf(row: MailboxRow): MailboxUidState {
  return { uidValidity: row.uidValidity, uidNext: row.uidNext, syncState: row.syncState, version: row.version, highestModseq: row.highestModseq };
}
