/**
 * SQLite schema of the embedded store (better-sqlite3, synchronous). Raw messages and uploads live in `blobs`
 * as exact bytes; every mutation of a JMAP type writes a row to `changes` so /changes is exact (RFC 8620 §5.2).
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, account_id TEXT NOT NULL UNIQUE, salt BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mailboxes (
  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL, parent_id TEXT, role TEXT,
  sort_order INTEGER NOT NULL DEFAULT 0, is_subscribed INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS mailboxes_account ON mailboxes(account_id);
CREATE TABLE IF NOT EXISTS blobs (
  account_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL, created INTEGER NOT NULL,
  PRIMARY KEY (account_id, id));
CREATE TABLE IF NOT EXISTS emails (
  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, blob_id TEXT NOT NULL, thread_id TEXT NOT NULL,
  size INTEGER NOT NULL, received_at INTEGER NOT NULL, sent_at INTEGER, has_attachment INTEGER NOT NULL,
  preview TEXT NOT NULL, subject_sort TEXT NOT NULL, from_sort TEXT NOT NULL, to_sort TEXT NOT NULL,
  search_from TEXT NOT NULL, search_to TEXT NOT NULL, search_cc TEXT NOT NULL, search_bcc TEXT NOT NULL,
  search_subject TEXT NOT NULL, search_body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS emails_account ON emails(account_id);
CREATE INDEX IF NOT EXISTS emails_thread ON emails(thread_id);
CREATE TABLE IF NOT EXISTS email_mailboxes (email_id TEXT NOT NULL, mailbox_id TEXT NOT NULL,
  PRIMARY KEY (email_id, mailbox_id));
CREATE INDEX IF NOT EXISTS email_mailboxes_mailbox ON email_mailboxes(mailbox_id);
CREATE TABLE IF NOT EXISTS email_keywords (email_id TEXT NOT NULL, keyword TEXT NOT NULL,
  PRIMARY KEY (email_id, keyword));
CREATE TABLE IF NOT EXISTS thread_refs (account_id TEXT NOT NULL, message_id TEXT NOT NULL, thread_id TEXT NOT NULL,
  PRIMARY KEY (account_id, message_id));
CREATE TABLE IF NOT EXISTS states (account_id TEXT NOT NULL, type TEXT NOT NULL, value INTEGER NOT NULL,
  floor INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account_id, type));
CREATE TABLE IF NOT EXISTS changes (account_id TEXT NOT NULL, type TEXT NOT NULL, state INTEGER NOT NULL,
  object_id TEXT NOT NULL, kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_by_state ON changes(account_id, type, state);
CREATE TABLE IF NOT EXISTS shares (account_id TEXT NOT NULL, username TEXT NOT NULL, read_only INTEGER NOT NULL,
  PRIMARY KEY (account_id, username));
CREATE TABLE IF NOT EXISTS quotas (account_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit INTEGER NOT NULL,
  PRIMARY KEY (account_id, resource));
`;

/** Opens (and creates) the database; `epoch` is a random tag of this database baked into state strings. */
export function openDb(path: string): { db: Db; epoch: string } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Durability as Dovecot's default `mail_fsync = optimized`: new messages are fsynced before the store answers
  // (Repo.durableTx: Email/import, importMessage), other commits (keywords, mailbox moves, expunges, mailboxes) are
  // not. WAL + NORMAL never corrupts and survives a crash of this process; only an OS crash or power loss can undo
  // the last such commits. An fsync per flag change blocked this synchronous server ~5 ms (issue 8 mixed load).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  db.exec(SCHEMA);
  memoizePrepare(db);
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('epoch', randomBytes(4).toString('hex'));
  const epoch = (db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string }).value;
  return { db, epoch };
}

/**
 * Statements are prepared once per SQL text and reused (preparing was the store's biggest cost: ~1 s of a
 * 6,000-message listing). Safe because no statement is iterated while another call runs it (no `.iterate()`).
 */
function memoizePrepare(db: Db): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<typeof prepare>>();
  (db as { prepare: typeof prepare }).prepare = ((sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  }) as typeof prepare;
}

/** Next value of a named counter, for opaque ids. */
export function nextCounter(db: Db, name: string): number {
  db.prepare('INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1').run(name);
  return (db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as { value: number }).value;
}
