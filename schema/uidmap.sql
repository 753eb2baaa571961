-- The UID store schema (src/uidmap/sqlite.ts), current version. DESIGN.md rules 1-3, 5, 6.
--
-- A fresh database is created from this file; an older one is brought up to date by schema/migrations/NNN-*.sql
-- (applied in order, in one transaction, at open). Both paths must give the same schema: test/uidmap/sqlite.test.ts
-- checks it. When you add a migration, update this file and the version below.

CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (5);

-- Store-wide values; one row. max_uidvalidity: the largest UIDVALIDITY ever issued (RFC 9051 §2.3.1.1), so a
-- new or reset mailbox gets max(clock seconds, max_uidvalidity + 1). boot_id: the OS boot the store was last opened in
-- (src/uidmap/sqlite.ts header, durability).
CREATE TABLE store_meta (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  max_uidvalidity INTEGER NOT NULL,
  boot_id         TEXT
);
INSERT INTO store_meta (id, max_uidvalidity) VALUES (1, 0);

-- One row per known (account, mailbox); mbox is the compact key of the per-message tables.
-- uid_next: RFC 9051 §7.3.1 UIDNEXT, above every UID ever issued in the mailbox (expunged ones included).
-- sync_state: the JMAP Email state string the live map reflects (DESIGN.md rule 4).
CREATE TABLE mailbox (
  mbox         INTEGER PRIMARY KEY,
  account      TEXT    NOT NULL,
  mailbox_id   TEXT    NOT NULL,
  uid_validity INTEGER NOT NULL,
  uid_next     INTEGER NOT NULL,
  sync_state   TEXT,
  UNIQUE (account, mailbox_id)
);

-- Sync version per mailbox (a missing row is 0): grows with every expunge, sync-state change and committed sync,
-- so a sync commits only if nothing it decided from changed meanwhile (compare-and-set, src/session/sync.ts).
CREATE TABLE sync_version (
  mbox    INTEGER PRIMARY KEY REFERENCES mailbox (mbox),
  version INTEGER NOT NULL
);

-- Live map: lookups by (mailbox, uid) (primary key) and by (mailbox, email_id) (unique index: one live UID per id).
CREATE TABLE uid_map (
  mbox     INTEGER NOT NULL REFERENCES mailbox (mbox),
  uid      INTEGER NOT NULL,
  email_id TEXT    NOT NULL,
  PRIMARY KEY (mbox, uid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX uid_map_by_email ON uid_map (mbox, email_id);

-- Expunged UIDs, kept for RFC 7162 VANISHED; their email ids get new UIDs if they come back.
CREATE TABLE expunged (
  mbox        INTEGER NOT NULL REFERENCES mailbox (mbox),
  uid         INTEGER NOT NULL,
  email_id    TEXT    NOT NULL,
  expunged_at INTEGER NOT NULL,
  PRIMARY KEY (mbox, uid)
) WITHOUT ROWID;

-- Gateway-only \Deleted flag per (mailbox, uid) (DESIGN.md rule 6).
CREATE TABLE deleted_flag (
  mbox INTEGER NOT NULL REFERENCES mailbox (mbox),
  uid  INTEGER NOT NULL,
  PRIMARY KEY (mbox, uid)
) WITHOUT ROWID;

-- RFC 7162 mod-sequences, the gateway's own counter (DESIGN.md rule 5). HIGHESTMODSEQ per mailbox (a missing row
-- is 1); each change of the mailbox (arrival, flag change, expunge) takes the next value. ceiling: every value issued is
-- at most this durable bound (src/uidmap/sqlite.ts header, durability).
CREATE TABLE mailbox_modseq (
  mbox    INTEGER PRIMARY KEY REFERENCES mailbox (mbox),
  highest INTEGER NOT NULL,
  ceiling INTEGER NOT NULL DEFAULT 0
);

-- Mod-sequence per (mailbox, uid), live or expunged (a missing row is 1): FETCH MODSEQ / CHANGEDSINCE for live
-- UIDs, the expunge's mod-sequence for VANISHED (RFC 7162 §3.2.6) for expunged ones.
CREATE TABLE uid_modseq (
  mbox   INTEGER NOT NULL REFERENCES mailbox (mbox),
  uid    INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mbox, uid)
) WITHOUT ROWID;

-- RFC 8474 §5.1 OBJECTID: the EMAILID/THREADID that an email re-imported by COPY keeps from its source
-- (src/uidmap/store.ts setOrigins). Write-once per (account, email id).
CREATE TABLE email_origin (
  account   TEXT NOT NULL,
  email_id  TEXT NOT NULL,
  origin_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  PRIMARY KEY (account, email_id)
) WITHOUT ROWID;
