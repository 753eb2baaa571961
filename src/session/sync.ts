/**
 * Bring a mailbox's UID map up to date with the JMAP store (DESIGN.md rules 1-4).
 *
 * The listing (`Email/query inMailbox`, receivedAt ascending) is diffed against the live map: ids that left get
 * their UIDs expunged (never reused), ids that arrived get new UIDs, ascending in listing order, in one atomic
 * store transaction, persisted before any client sees them. Existing UIDs never change.
 *
 * This is the full diff (O(mailbox)); `Email/changes` decides whether it is needed at all (see view.ts). Making the
 * diff itself incremental is the sync engine's job (issue 4).
 */
import type { MailBackend } from '../backend/backend.ts';
import type { UidEntry, UidStore } from '../uidmap/store.ts';

export interface SyncedMailbox {
  uidValidity: number;
  uidNext: number;
  /** Live entries ascending by UID: index + 1 is the message sequence number. */
  entries: UidEntry[];
  /** The JMAP Email state the entries reflect. */
  emailState: string;
}

export async function syncMailbox(backend: MailBackend, store: UidStore, account: string, mailboxId: string): Promise<SyncedMailbox> {
  const [listing, opened, live] = await Promise.all([
    backend.listEmailIds(mailboxId),
    store.openMailbox(account, mailboxId),
    store.list(account, mailboxId),
  ]);
  const present = new Set(listing.ids);
  const gone = live.filter((e) => !present.has(e.emailId)).map((e) => e.uid);
  if (gone.length > 0) await store.expunge(account, mailboxId, gone);
  const known = new Set(live.map((e) => e.emailId));
  const arrived = listing.ids.filter((id) => !known.has(id));
  let entries = live.filter((e) => present.has(e.emailId));
  if (arrived.length > 0) {
    const assigned = await store.assign(account, mailboxId, arrived);
    entries = entries.concat(arrived.map((emailId) => ({ uid: assigned.get(emailId)!, emailId })));
    entries.sort((a, b) => a.uid - b.uid);
  }
  await store.setSyncState(account, mailboxId, listing.emailState);
  const state = arrived.length > 0 ? await store.openMailbox(account, mailboxId) : opened;
  return { uidValidity: state.uidValidity, uidNext: state.uidNext, entries, emailState: listing.emailState };
}
