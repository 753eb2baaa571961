/**
 * The schema of one UidStoreDO (Durable Object SQLite storage), DESIGN.md rules 1-3, 5, 6. It is schema/uidmap.sql
 * without the account column: each account has its own object, so every table is that account's. The
 * UIDVALIDITY allocator (one object for the whole deployment) uses only `store_meta`.
 *
 * Versioned like the Node store: `schema_version` holds the version; MIGRATIONS[i] brings version i to i + 1.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE schema_version (version INTEGER NOT NULL);
   INSERT INTO schema_version (version) VALUES (0);
   -- max_uidvalidity: the largest UIDVALIDITY this object ever issued or took (RFC 9051 §2.3.1.1).
   CREATE TABLE store_meta (id INTEGER PRIMARY KEY CHECK (id = 1), max_uidvalidity INTEGER NOT NULL);
   INSERT INTO store_meta (id, max_uidvalidity) VALUES (1, 0);
   -- uid_next: RFC 9051 §7.3.1 UIDNEXT; sync_state: the JMAP Email state the live map reflects (rule 4).
   CREATE TABLE mailbox (
     mbox INTEGER PRIMARY KEY, mailbox_id TEXT NOT NULL UNIQUE,
     uid_validity INTEGER NOT NULL, uid_next INTEGER NOT NULL, sync_state TEXT);
   CREATE TABLE uid_map (
     mbox INTEGER NOT NULL, uid INTEGER NOT NULL, email_id TEXT NOT NULL, PRIMARY KEY (mbox, uid)) WITHOUT ROWID;
   CREATE UNIQUE INDEX uid_map_by_email ON uid_map (mbox, email_id);
   -- Expunged UIDs (RFC 7162 VANISHED); their ids get new UIDs if they come back.
   CREATE TABLE expunged (
     mbox INTEGER NOT NULL, uid INTEGER NOT NULL, email_id TEXT NOT NULL, expunged_at INTEGER NOT NULL,
     PRIMARY KEY (mbox, uid)) WITHOUT ROWID;
   -- Gateway-only \\Deleted (rule 6).
   CREATE TABLE deleted_flag (mbox INTEGER NOT NULL, uid INTEGER NOT NULL, PRIMARY KEY (mbox, uid)) WITHOUT ROWID;`,
  // Sync version per mailbox (missing row = 0): the compare-and-set of UidStore.commitSync (src/uidmap/store.ts).
  `CREATE TABLE sync_version (mbox INTEGER PRIMARY KEY, version INTEGER NOT NULL);`,
  // RFC 7162 mod-sequences (DESIGN.md rule 5): HIGHESTMODSEQ per mailbox and the mod-sequence of each live or
  // expunged UID (VANISHED); a missing row means 1.
  `CREATE TABLE mailbox_modseq (mbox INTEGER PRIMARY KEY, highest INTEGER NOT NULL);
   CREATE TABLE uid_modseq (mbox INTEGER NOT NULL, uid INTEGER NOT NULL, modseq INTEGER NOT NULL, PRIMARY KEY (mbox, uid)) WITHOUT ROWID;`,
  // The immutable-data cache of the account (do-cache.ts, DESIGN.md rule 9): header blocks and facts that never
  // change for an email id (RFC 8621 §4.1); bytes and last_used give the LRU byte bound.
  `CREATE TABLE message_cache (
     email_id TEXT PRIMARY KEY, blob_id TEXT NOT NULL, thread_id TEXT NOT NULL, size INTEGER NOT NULL,
     received_at TEXT NOT NULL, header BLOB NOT NULL, bytes INTEGER NOT NULL, last_used INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX message_cache_lru ON message_cache (last_used);`,
  // RFC 8474 §5.1 OBJECTID: the EMAILID/THREADID that an email re-imported by COPY keeps from its source
  // (UidStore.setOrigins); write-once per email id, kept across mailbox resets (ids are account-wide).
  `CREATE TABLE email_origin (email_id TEXT PRIMARY KEY, origin_id TEXT NOT NULL, thread_id TEXT NOT NULL) WITHOUT ROWID;`,
  // The account's persisted keywords and exact UNSEEN counts (do-keyword-store.ts, src/cache/keyword-store.ts):
  // mutable JMAP data, each stored with the Email state it is valid at (RFC 8620 §5.1). `key` is the gateway's key
  // (account on one JMAP server); `entries` and `last_used` give the per-object row bound.
  `CREATE TABLE keyword_state (key TEXT PRIMARY KEY, state TEXT NOT NULL, entries INTEGER NOT NULL, last_used INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX keyword_state_lru ON keyword_state (last_used);
   CREATE TABLE keyword_entry (key TEXT NOT NULL, email_id TEXT NOT NULL, keywords TEXT NOT NULL, PRIMARY KEY (key, email_id)) WITHOUT ROWID;
   CREATE TABLE unseen_count (key TEXT PRIMARY KEY, count INTEGER NOT NULL, email_state TEXT NOT NULL, last_used INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX unseen_count_lru ON unseen_count (last_used);`,
];

/** The version a fresh or migrated object ends at. */
export const SCHEMA_VERSION = MIGRATIONS.length;
