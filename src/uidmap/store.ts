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
 * Implementations: memory.ts (tests, ephemeral), sqlite.ts (default on Node), and later a Durable Object.
 * Every implementation must pass test/uidmap/contract.ts.
 */

/** Per-mailbox UID state (RFC 9051 §2.3.1.1, RFC 7162 §3.1.1 for HIGHESTMODSEQ). */
export interface MailboxUidState {
  uidValidity: number;
  /** The UID the next assigned message will get (RFC 9051 §7.3.1 UIDNEXT). */
  uidNext: number;
  /** The JMAP Email state string that the live map of this mailbox reflects, or null before the first sync. */
  syncState: string | null;
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
   * in that mailbox, ascending in the order given.
   */
  assign(account: string, mailboxId: string, emailIds: string[]): Promise<Map<string, number>>;

  /** All live entries of the mailbox, ascending by UID. */
  list(account: string, mailboxId: string): Promise<UidEntry[]>;

  /**
   * Remove live entries (the messages were expunged from the mailbox). Their UIDs are never issued again,
   * and their email ids get new UIDs if they come back.
   */
  expunge(account: string, mailboxId: string, uids: number[]): Promise<void>;

  /** Record the JMAP Email state string the live map now reflects (DESIGN.md rule 4). */
  setSyncState(account: string, mailboxId: string, syncState: string): Promise<void>;

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

  close(): Promise<void>;
}
