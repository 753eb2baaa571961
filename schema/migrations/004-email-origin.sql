-- 004: RFC 8474 §5.1 OBJECTID: the EMAILID/THREADID that an email re-imported by COPY keeps from its source
-- (src/uidmap/store.ts setOrigins). Write-once per (account, email id).
CREATE TABLE email_origin (
  account   TEXT NOT NULL,
  email_id  TEXT NOT NULL,
  origin_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  PRIMARY KEY (account, email_id)
) WITHOUT ROWID;
