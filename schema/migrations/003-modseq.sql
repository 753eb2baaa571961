-- 003: RFC 7162 mod-sequences, the gateway's own counter (DESIGN.md rule 5, src/uidmap/store.ts highestModseq).
-- Messages and mailboxes known before this migration have mod-sequence 1 (a missing row means 1).
CREATE TABLE mailbox_modseq (
  mbox    INTEGER PRIMARY KEY REFERENCES mailbox (mbox),
  highest INTEGER NOT NULL
);
CREATE TABLE uid_modseq (
  mbox   INTEGER NOT NULL REFERENCES mailbox (mbox),
  uid    INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (mbox, uid)
) WITHOUT ROWID;
