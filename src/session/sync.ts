/**
 * Bring a mailbox's UID map up to date with the JMAP store (DESIGN.md rules 1-4).
 *
 * - Incremental (the normal case once the mailbox was seen, even before a restart: the state is persisted with the
 *   map): `Email/changes` since the map's state, then one `Email/get` of `mailboxIds`/`receivedAt` for the ids that
 *   changed. Cost grows with the changes, not with the mailbox.
 * - Full (first sight, or `cannotCalculateChanges`, RFC 8620 §5.2): the listing (`Email/query inMailbox`,
 *   receivedAt ascending) is diffed against the live map. Existing UIDs stay; UIDVALIDITY does not change.
 *
 * Either way: ids that left get their UIDs expunged (never reused: an id that comes back gets a new UID), ids that
 * arrived get new UIDs ascending in receivedAt order, in one atomic store transaction, persisted before any client
 * sees them. Decisions use the emails' current `mailboxIds`, so replaying changes is harmless.
 */
import { isCannotCalculateChanges, type MailBackend } from '../backend/backend.ts';
import type { UidEntry, UidStore } from '../uidmap/store.ts';

export interface SyncedMailbox {
  uidValidity: number;
  uidNext: number;
  /** Live entries ascending by UID: index + 1 is the message sequence number. */
  entries: UidEntry[];
  /** The JMAP Email state the entries reflect. */
  emailState: string;
  /** Email ids reported changed (incremental sync only): candidates for flag updates. */
  changed: string[];
  /** How the map was brought up to date (for tests and metrics). */
  mode: 'incremental' | 'full';
}

/** More `Email/changes` pages than this and a full listing is cheaper. */
const MAX_CHANGE_PAGES = 20;
const CHANGES_PER_PAGE = 5_000;

export async function syncMailbox(backend: MailBackend, store: UidStore, account: string, mailboxId: string): Promise<SyncedMailbox> {
  const opened = await store.openMailbox(account, mailboxId);
  if (opened.syncState) {
    try {
      const result = await incremental(backend, store, account, mailboxId, opened.syncState);
      if (result) return result;
    } catch (err) {
      if (!isCannotCalculateChanges(err)) throw err;
    }
  }
  return full(backend, store, account, mailboxId);
}

async function incremental(backend: MailBackend, store: UidStore, account: string, mailboxId: string, since: string): Promise<SyncedMailbox | null> {
  const touched = new Set<string>();
  const destroyed = new Set<string>();
  let state = since;
  for (let page = 0; ; page++) {
    if (page >= MAX_CHANGE_PAGES) return null;
    const ch = await backend.emailChanges(state, CHANGES_PER_PAGE);
    for (const id of [...ch.created, ...ch.updated]) touched.add(id);
    for (const id of ch.destroyed) destroyed.add(id);
    state = ch.newState;
    if (!ch.hasMoreChanges) break;
  }
  for (const id of destroyed) touched.delete(id);
  const live = await store.list(account, mailboxId);
  if (touched.size === 0 && destroyed.size === 0) {
    if (state !== since) await store.setSyncState(account, mailboxId, state);
    return done(store, account, mailboxId, live, state, [], 'incremental');
  }
  const metas = touched.size > 0 ? await backend.getEmails([...touched]) : [];
  const here = new Map(metas.filter((m) => m.mailboxIds.includes(mailboxId)).map((m) => [m.id, m] as const));
  const liveIds = new Set(live.map((e) => e.emailId));
  const gone = live.filter((e) => destroyed.has(e.emailId) || (touched.has(e.emailId) && !here.has(e.emailId)));
  const arrived = [...here.values()]
    .filter((m) => !liveIds.has(m.id))
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id))
    .map((m) => m.id);
  const entries = await apply(store, account, mailboxId, live, gone, arrived);
  await store.setSyncState(account, mailboxId, state);
  return done(store, account, mailboxId, entries, state, [...touched], 'incremental');
}

async function full(backend: MailBackend, store: UidStore, account: string, mailboxId: string): Promise<SyncedMailbox> {
  const [listing, live] = await Promise.all([backend.listEmailIds(mailboxId), store.list(account, mailboxId)]);
  const present = new Set(listing.ids);
  const gone = live.filter((e) => !present.has(e.emailId));
  const known = new Set(live.map((e) => e.emailId));
  const arrived = listing.ids.filter((id) => !known.has(id));
  const entries = await apply(store, account, mailboxId, live, gone, arrived);
  await store.setSyncState(account, mailboxId, listing.emailState);
  return done(store, account, mailboxId, entries, listing.emailState, [], 'full');
}

/** Expunge what left, assign what arrived (in order), return the live entries ascending by UID. */
async function apply(store: UidStore, account: string, mailboxId: string, live: UidEntry[], gone: UidEntry[], arrived: string[]): Promise<UidEntry[]> {
  if (gone.length > 0) await store.expunge(account, mailboxId, gone.map((e) => e.uid));
  const goneUids = new Set(gone.map((e) => e.uid));
  let entries = live.filter((e) => !goneUids.has(e.uid));
  if (arrived.length > 0) {
    const assigned = await store.assign(account, mailboxId, arrived);
    entries = entries.concat(arrived.map((emailId) => ({ uid: assigned.get(emailId)!, emailId })));
    entries.sort((a, b) => a.uid - b.uid);
  }
  return entries;
}

async function done(
  store: UidStore,
  account: string,
  mailboxId: string,
  entries: UidEntry[],
  emailState: string,
  changed: string[],
  mode: SyncedMailbox['mode'],
): Promise<SyncedMailbox> {
  const { uidValidity, uidNext } = await store.openMailbox(account, mailboxId);
  return { uidValidity, uidNext, entries, emailState, changed, mode };
}
