-- 002: the per-mailbox sync version that makes a sync's commit a compare-and-set (src/uidmap/store.ts
-- MailboxUidState.version, src/session/sync.ts). A missing row means version 0.
CREATE TABLE sync_version (
  mbox    INTEGER PRIMARY KEY REFERENCES mailbox (mbox),
  version INTEGER NOT NULL
);
