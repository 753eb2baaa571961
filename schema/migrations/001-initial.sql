-- 001: the initial UID map schema (DESIGN.md rules 1-3, 5, 6). See uidmap.sql for the documented current schema.

-- Store-wide values; one row. max_uidvalidity: the largest UIDVALIDITY ever issued (RFC 9051 §2.3.1.1).
CREATE TABLE store_meta (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  max_uidvalidity INTEGER NOT NULL
);
INSERT INTO store_meta (id, max_uidvalidity) VALUES (1, 0);

-- One row per known (account, mailbox); mbox is the compact key of the per-message tables.
CREATE TABLE mailbox (
  mbox         INTEGER PRIMARY KEY,
  account      TEXT    NOT NULL,
  mailbox_id   TEXT    NOT NULL,
  uid_validity INTEGER NOT NULL,
  uid_next     INTEGER NOT NULL,
  sync_state   TEXT,
  UNIQUE (account, mailbox_id)
);

-- Live map: lookups by (mailbox, uid) (primary key) and by (mailbox, email_id) (unique index).
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
