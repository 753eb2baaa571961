/**
 * UidStore: the gateway's persistent map between JMAP ids and IMAP UIDs (DESIGN.md rules 1-3).
 *
 * JMAP has no UIDs, so the gateway invents them and must keep them forever (RFC 9051 §2.3.1.1):
 * - A UID shown to a client is persisted before the response that shows it is sent (callers await `assign`).
 * - UIDVALIDITY is per mailbox, distinct across all mailboxes of the store, only grows, and is seeded from the
 *   clock (seconds since epoch, bumped past the largest ever issued), so a rebuilt store never reissues an old value.
 * - `assign` is atomic: one transaction gives the next UIDs, ascending in the given order, to the email ids that
 *   have no live UID in that mailbox and advances UIDNEXT. Two sessions or two processes sharing the store never
 *   hand out one UID for two messages.
 * - The key is (account, mailboxId, emailId). An email in several mailboxes has one UID per mailbox. An email
 *   that was expunged from a mailbox and comes back gets a new UID, never its old one.
 *
 * Implementations: memory.ts (tests, ephemeral), sqlite.ts (default on Node), src/edge/do-uid-store.ts (Durable
 * Object, reached over RPC by rpc-uid-store.ts and over HTTP by http-uid-store.ts).
 * Every implementation must pass test/uidmap/contract.ts.
 */

/** Per-mailbox UID state (RFC 9051 §2.3.1.1, RFC 7162 §3.1.1 for HIGHESTMODSEQ). */
export interface MailboxUidState {
  uidValidity: number;
  /** The UID the next assigned message will get (RFC 9051 §7.3.1 UIDNEXT). */
  uidNext: number;
  /** The JMAP Email state string that the live map of this mailbox reflects, or null before the first sync. */
  syncState: string | null;
  /**
   * Sync version: grows with every write that could make a sync's decisions stale: an `expunge` that removed a
   * live entry, a change of `syncState`, a `commitSync`. Not `assign` (idempotent per id, only adds UIDs above
   * the ones a sync saw), so APPEND bursts never starve a sync. `commitSync` compares it (compare-and-set).
   */
  version: number;
  /**
   * RFC 7162 §3.1.1 HIGHESTMODSEQ: the gateway's own per-mailbox mod-sequence counter (DESIGN.md rule 5), never
   * decreasing, at least 1. Every write that changes a message (assign, expunge, `touch`, a sync's `touch`) takes
   * the next value, so a mod-sequence names one change of the mailbox across all sessions and processes.
   */
  highestModseq: number;
}

/** One consistent read of a mailbox's state and live map, the starting point of a sync (sync.ts). */
export interface MailboxSnapshot extends MailboxUidState {
  /** Live entries ascending by UID. */
  entries: UidEntry[];
  /** RFC 7162 §3.1 per-message mod-sequence of each entry (same index as `entries`). */
  modseqs: number[];
}

/** The outcome of one sync, applied by `commitSync` only if the map is still at `version`. */
export interface SyncCommit {
  /** The `version` of the snapshot the sync's decisions were made from. */
  version: number;
  /** Live UIDs whose emails left the mailbox. */
  expunge: number[];
  /** Email ids that arrived, in UID order (receivedAt ascending). */
  assign: string[];
  /** The JMAP Email state the map reflects after this commit. */
  syncState: string;
  /**
   * Email ids whose metadata (keywords) changed (JMAP `Email/changes` updated): their live entries get the
   * commit's new mod-sequence (RFC 7162 §3.1). Absent = none.
   */
  touch?: string[];
}

/** One live message of a mailbox: its UID and the JMAP email id it stands for. */
export interface UidEntry {
  uid: number;
  emailId: string;
}

export interface UidStore {
  /**
   * The state of a mailbox, creating it (with a fresh, distinct UIDVALIDITY and UIDNEXT 1) on first sight.
   * Idempotent and race-free: concurrent first calls from two processes yield the same UIDVALIDITY.
   */
  openMailbox(account: string, mailboxId: string): Promise<MailboxUidState>;

  /**
   * Atomically assign UIDs to those `emailIds` (in the given order) that have no live UID in the mailbox.
   * Returns the live UID of every id passed (old or new). The new UIDs are all above every UID ever issued
   * in that mailbox, ascending in the order given, and all get one new mod-sequence (RFC 7162 §3.1: above every
   * message's).
   */
  assign(account: string, mailboxId: string, emailIds: string[]): Promise<Map<string, number>>;

  /** All live entries of the mailbox, ascending by UID. */
  list(account: string, mailboxId: string): Promise<UidEntry[]>;

  /**
   * Remove live entries (the messages were expunged from the mailbox). Their UIDs are never issued again,
   * and their email ids get new UIDs if they come back. They get one new mod-sequence, kept for `vanished`, and
   * lose their `\Deleted` flag (getDeleted) in the same transaction.
   *
   * Returns the UIDs this call removed from the live map, ascending, decided in the same transaction as the
   * removal: a UID that was not live (never assigned, or already expunged, also by a concurrent writer) is not in
   * it, so two racing expunges of overlapping sets answer disjoint sets whose union is what was live. What a caller
   * may conclude (sync.ts keeps its cached snapshot on it):
   * - non-empty: this call took exactly one new HIGHESTMODSEQ (every removed UID's expunge mod-sequence) and moved
   *   `version` by exactly one; it left UIDNEXT, `syncState` and every other entry's mod-sequence as they were.
   * - empty: it changed nothing (it does not even create an unknown mailbox).
   */
  expunge(account: string, mailboxId: string, uids: number[]): Promise<number[]>;

  /** The mailbox's state and live map read at one instant (creating the mailbox like `openMailbox`). */
  snapshot(account: string, mailboxId: string): Promise<MailboxSnapshot>;

  /**
   * Compare-and-set of a sync (DESIGN.md rules 2 and 4): in one transaction, if the mailbox's `version` is still
   * `c.version`, expunge `c.expunge`, assign `c.assign` (as `assign` does), give `c.touch` (and the assigned and
   * expunged UIDs) one new mod-sequence when any of them changed anything, record `c.syncState` and bump the
   * version; returns the new state and the UID of every assigned id. Returns null, changing nothing, when another
   * writer got there first: the caller syncs again from a fresh snapshot. This is what keeps a sync that listed
   * an email before another session expunged it from giving it a new UID (a "ghost").
   */
  commitSync(account: string, mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null>;

  /** Record the JMAP Email state string the live map now reflects (DESIGN.md rule 4). */
  setSyncState(account: string, mailboxId: string, syncState: string): Promise<void>;

  /**
   * Compare-and-set of the recorded JMAP Email state after the gateway's own write (RFC 8620 §5.3 `oldState` ->
   * `newState` of an `Email/set`): if the mailbox's `syncState` is still `from`, record `to` (bumping `version`
   * like `setSyncState`) and return true; otherwise change nothing and return false. The caller vouches that every
   * Email change between the two states is its own and already reflected here (its live UIDs `touch`ed), so the
   * next sync does not give them a second mod-sequence (RFC 7162 §3.1.3: a client's UNCHANGEDSINCE must hold).
   */
  advanceSyncState(account: string, mailboxId: string, from: string, to: string): Promise<boolean>;

  /**
   * Forget a mailbox that was really replaced or deleted: its live map is dropped and the next `openMailbox`
   * issues a new, larger UIDVALIDITY (RFC 9051 §2.3.1.1). Never used as a shortcut for resyncing.
   */
  resetMailbox(account: string, mailboxId: string): Promise<void>;

  /**
   * Gateway-only flags per (mailbox, UID) that JMAP has no keyword for: `\Deleted` (DESIGN.md rule 6).
   * `get` returns the UIDs that carry the flag.
   */
  getDeleted(account: string, mailboxId: string): Promise<Set<number>>;
  setDeleted(account: string, mailboxId: string, uids: number[], deleted: boolean): Promise<void>;

  /**
   * RFC 7162 §3.1: give the live `uids` one new mod-sequence (HIGHESTMODSEQ + 1) in one transaction, after the
   * gateway changed their flags (STORE). Returns the mailbox's HIGHESTMODSEQ afterwards (unchanged when no UID
   * was live).
   */
  touch(account: string, mailboxId: string, uids: number[]): Promise<number>;

  /**
   * RFC 7162 §3.2.5.2 / §3.2.6: expunged UIDs of the mailbox whose expunge mod-sequence is above `sinceModseq`,
   * ascending. Expunge history is kept as long as the mailbox (never trimmed).
   */
  vanished(account: string, mailboxId: string, sinceModseq: number): Promise<number[]>;

  /**
   * RFC 8474 §5.1 (OBJECTID): the object ids of emails that COPY created by re-importing a source message (a copy
   * into a mailbox that already holds the source, or copy semantics): the COPYUID pairing must show the source's
   * EMAILID, and THREADID follows EMAILID (§5.2), so the copy keeps the source's ids, persisted before COPYUID is
   * sent. Write-once: an email id that already has an origin keeps it. Account-wide: `resetMailbox` keeps them.
   */
  setOrigins(account: string, origins: Map<string, EmailOrigin>): Promise<void>;
  /** The recorded origins of those `emailIds` that have one. */
  getOrigins(account: string, emailIds: string[]): Promise<Map<string, EmailOrigin>>;

  close(): Promise<void>;
}

/** RFC 8474 §5.1 / §5.2: the EMAILID and THREADID an email shows instead of its own JMAP ids (see `setOrigins`). */
export interface EmailOrigin {
  emailId: string;
  threadId: string;
}
