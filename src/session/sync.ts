/**
 * Bring a mailbox's UID map up to date with the JMAP store (DESIGN.md rules 1-4).
 *
 * - Incremental (the normal case once the mailbox was seen, even before a restart: the state is persisted with the
 *   map): `Email/changes` since the map's state (or since the caller's own older state, see `catchUp`), then one
 *   `Email/get` of the changed ids (mailboxIds, receivedAt, keywords: the caller reuses them for FETCH FLAGS).
 *   Cost grows with the changes, not with the mailbox.
 * - Full (first sight, or `cannotCalculateChanges`, RFC 8620 §5.2): the listing (`Email/query inMailbox`,
 *   receivedAt ascending, paged) is diffed against the map. Existing UIDs stay; UIDVALIDITY does not change.
 *
 * Either way: ids that left get their UIDs expunged (never reused: an id that comes back gets a new UID), ids that
 * arrived get new UIDs ascending in receivedAt order, persisted before any client sees them. Decisions use the
 * emails' current `mailboxIds`, so replaying changes is harmless.
 *
 * Many sessions, many processes: each sync reads a snapshot of the map (entries + sync version) BEFORE its JMAP
 * reads, and commits with `UidStore.commitSync`, a compare-and-set on that version. If any expunge or other sync
 * committed meanwhile, the commit changes nothing and the sync starts over from a fresh snapshot. So a sync whose
 * listing still showed an email that another session has since expunged can never give it a new UID (a "ghost").
 * Within one process, syncs of one mailbox are serialized, so they do not make each other retry.
 *
 * Mod-sequences (RFC 7162 §3.1, DESIGN.md rule 5): the commit gives arrivals, expunges and the emails
 * `Email/changes` reported updated (keywords) one new mod-sequence, unless the map already reflected that JMAP
 * state (another sync bumped them). A sync from an older state touches a superset: a spurious bump is harmless.
 */
import { isCannotCalculateChanges, type EmailMeta, type MailBackend } from '../backend/backend.ts';
import { ImapError } from '../protocol/errors.ts';
import type { MailboxSnapshot, SyncCommit, UidEntry, UidStore } from '../uidmap/store.ts';

export interface SyncedMailbox {
  uidValidity: number;
  uidNext: number;
  /**
   * Live entries ascending by UID: index + 1 is the message sequence number. May be the process-wide snapshot's
   * own array (shared by every session: never mutate it).
   */
  entries: UidEntry[];
  /** RFC 7162 §3.1 mod-sequence of each entry (same index); this caller's own copy. */
  modseqs: number[];
  /** `entries` as two columns (UIDs, email ids), built once per entries array and shared: copy, never mutate. */
  columns: Columns;
  /** RFC 7162 §3.1.1 HIGHESTMODSEQ of the mailbox. */
  highestModseq: number;
  /** The JMAP Email state the entries reflect. */
  emailState: string;
  /** Metadata (keywords included) of the emails reported changed (incremental sync only): for FETCH FLAGS. */
  changed: EmailMeta[];
  /** How the map was brought up to date (for tests and metrics). */
  mode: 'incremental' | 'full';
  /** Commits refused because another writer moved the map (compare-and-set retries; for tests and metrics). */
  retries: number;
}

/** `catchUp` found no Email change since the caller's state: its entries are still the map's. */
export interface Unchanged {
  unchanged: true;
  emailState: string;
}

/** More `Email/changes` pages than this and a full listing is cheaper. */
const MAX_CHANGE_PAGES = 20;
const CHANGES_PER_PAGE = 5_000;
/** Compare-and-set attempts before answering NO [UNAVAILABLE]; each waits a little longer (jittered). */
const MAX_ATTEMPTS = 12;

/** The map of one mailbox, brought up to date (SELECT, STATUS, APPEND/COPY targets). */
export async function syncMailbox(backend: MailBackend, store: UidStore, account: string, mailboxId: string): Promise<SyncedMailbox> {
  return serialized(store, account, mailboxId, () => run(backend, store, account, mailboxId, null)) as Promise<SyncedMailbox>;
}

/**
 * A selected mailbox catching up from the state its view reflects (NOOP, IDLE, after APPEND/COPY). One
 * `Email/changes` and nothing else when nothing changed. Otherwise those changes (a superset of the map's own,
 * since the map's state never lags a state a view adopted) drive the sync, so every change since the view's
 * state is in `changed`, even when another session already brought the map past it.
 */
export async function catchUp(backend: MailBackend, store: UidStore, account: string, mailboxId: string, since: string): Promise<SyncedMailbox | Unchanged> {
  return serialized(store, account, mailboxId, () => run(backend, store, account, mailboxId, since));
}

async function run(backend: MailBackend, store: UidStore, account: string, mailboxId: string, since: string | null): Promise<SyncedMailbox | Unchanged> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 << attempt)));
    let early: Changes | null = null;
    if (since !== null) {
      early = await collectChanges(backend, since);
      if (early && early.touched.size + early.destroyed.size === 0) return { unchanged: true, emailState: early.newState };
    }
    const snap = await snapshotOf(store, account, mailboxId);
    const changes = snap.syncState === null ? null : early ?? await collectChanges(backend, snap.syncState);
    const plan = changes ? await incremental(backend, mailboxId, snap, changes) : await full(backend, mailboxId, snap);
    const result = await commit(store, account, mailboxId, snap, plan, attempt);
    if (result) return result;
  }
  throw ImapError.no('Mailbox is changing too fast to synchronize; try again', 'UNAVAILABLE');
}

/** What one sync decided from its snapshot. */
interface Plan {
  commit: SyncCommit;
  changed: EmailMeta[];
  mode: SyncedMailbox['mode'];
}

/** `Email/changes` pages since `since`, merged; null when the store cannot (or it would take too many pages). */
interface Changes { touched: Set<string>; destroyed: Set<string>; newState: string }

async function collectChanges(backend: MailBackend, since: string): Promise<Changes | null> {
  const touched = new Set<string>();
  const destroyed = new Set<string>();
  let state = since;
  try {
    for (let page = 0; ; page++) {
      if (page >= MAX_CHANGE_PAGES) return null;
      const ch = await backend.emailChanges(state, CHANGES_PER_PAGE);
      for (const id of [...ch.created, ...ch.updated]) touched.add(id);
      for (const id of ch.destroyed) destroyed.add(id);
      state = ch.newState;
      if (!ch.hasMoreChanges) break;
    }
  } catch (err) {
    if (isCannotCalculateChanges(err)) return null;
    throw err;
  }
  for (const id of destroyed) touched.delete(id);
  return { touched, destroyed, newState: state };
}

async function incremental(backend: MailBackend, mailboxId: string, snap: MailboxSnapshot, ch: Changes): Promise<Plan> {
  // Read after the snapshot: an email this sync expunges was really gone, after the snapshot saw it mapped.
  const metas = ch.touched.size > 0 ? await backend.getEmails([...ch.touched]) : [];
  const here = new Map(metas.filter((m) => m.mailboxIds.includes(mailboxId)).map((m) => [m.id, m] as const));
  const index = ch.touched.size + ch.destroyed.size > 0 ? indexOf(snap) : EMPTY_INDEX; // O(changes) when none
  const liveIds = { has: (id: string) => index.has(id) };
  const gone = [...ch.destroyed, ...[...ch.touched].filter((id) => !here.has(id))]
    .flatMap((id) => { const i = index.get(id); return i === undefined ? [] : [snap.entries[i]!]; })
    .sort((a, b) => a.uid - b.uid);
  // Live emails still here whose metadata changed get a new mod-sequence, unless the map already reflects newState.
  const touch = snap.syncState === ch.newState ? [] : [...here.keys()].filter((id) => liveIds.has(id));
  const arrived = [...here.values()]
    .filter((m) => !liveIds.has(m.id))
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id))
    .map((m) => m.id);
  return { commit: { ...plan(snap, gone, arrived, ch.newState), touch }, changed: metas, mode: 'incremental' };
}

async function full(backend: MailBackend, mailboxId: string, snap: MailboxSnapshot): Promise<Plan> {
  const listing = await backend.listEmailIds(mailboxId); // after the snapshot, as above
  const present = new Set(listing.ids);
  const gone = snap.entries.filter((e) => !present.has(e.emailId));
  const known = new Set(snap.entries.map((e) => e.emailId));
  const arrived = listing.ids.filter((id) => !known.has(id));
  return { commit: plan(snap, gone, arrived, listing.emailState), changed: [], mode: 'full' };
}

function plan(snap: MailboxSnapshot, gone: UidEntry[], arrived: string[], syncState: string): SyncCommit {
  return { version: snap.version, expunge: gone.map((e) => e.uid), assign: arrived, syncState };
}

/** Commit the plan (compare-and-set); null when another writer moved the map first. */
async function commit(store: UidStore, account: string, mailboxId: string, snap: MailboxSnapshot, p: Plan, retries: number): Promise<SyncedMailbox | null> {
  const c = p.commit;
  const done = c.expunge.length + c.assign.length === 0 && c.syncState === snap.syncState
    ? { state: snap, assigned: new Map<string, number>() } // nothing to write: the snapshot is the map
    : await store.commitSync(account, mailboxId, c);
  if (!done) return null;
  const { uidValidity, uidNext, highestModseq } = done.state;
  const changedAny = c.expunge.length + c.assign.length + (c.touch?.length ?? 0) > 0;
  // store.ts: every write that changes an entry or a mod-sequence takes exactly one new mod-sequence, and this commit
  // took one iff it changed anything. So this equality means no other writer touched the map between the snapshot
  // and the commit, and the map derived here is the store's at `done.state`: kept for the next sync (snapshotOf).
  const alone = highestModseq === snap.highestModseq + (changedAny ? 1 : 0);
  if (!changedAny) { // the map's entries as they were: O(1)
    if (alone && done.state !== snap) remember(store, account, mailboxId, { ...snap, ...done.state, syncState: c.syncState });
    return { uidValidity, uidNext, entries: snap.entries, modseqs: snap.modseqs.slice(), columns: columnsOf(snap.entries),
      highestModseq, emailState: c.syncState, changed: p.changed, mode: p.mode, retries };
  }
  const goneUids = new Set(c.expunge);
  const touched = new Set(c.touch);
  // Everything this commit changed has its one new mod-sequence, which is now the HIGHESTMODSEQ.
  const rows = snap.entries.map((e, i) => ({ e, m: touched.has(e.emailId) ? highestModseq : snap.modseqs[i]! }))
    .filter(({ e }) => !goneUids.has(e.uid))
    .concat(c.assign.map((emailId) => ({ e: { uid: done.assigned.get(emailId)!, emailId }, m: highestModseq })));
  if (c.assign.length > 0) rows.sort((a, b) => a.e.uid - b.e.uid);
  const entries = rows.map((r) => r.e);
  const modseqs = rows.map((r) => r.m);
  if (alone) remember(store, account, mailboxId, { ...done.state, syncState: c.syncState, entries, modseqs });
  return {
    uidValidity, uidNext, entries, modseqs: modseqs.slice(), columns: columnsOf(entries), highestModseq,
    emailState: c.syncState, changed: p.changed, mode: p.mode, retries,
  };
}

/**
 * The last snapshot read of each mailbox, per store, in this process. Reused while the store's one-row state still
 * matches it: every write that changes the live map or a mod-sequence moves `version`, `highestModseq` or
 * `uidNext` (store.ts MailboxUidState), so an equal state means equal entries. A warm SELECT then reads one row
 * instead of the whole map (docs/bench/profile.md). A map derived from a commit is kept only when the commit proves
 * no other writer came between (see `commit`: an `assign` racing in would otherwise be missing from it), so a
 * SELECT after new mail still reads one row. Bounded by MAX_SNAPSHOT_ENTRIES.
 */
const snapshots = new WeakMap<UidStore, Map<string, MailboxSnapshot>>();
const MAX_SNAPSHOT_ENTRIES = 2_000_000;

async function snapshotOf(store: UidStore, account: string, mailboxId: string): Promise<MailboxSnapshot> {
  let byKey = snapshots.get(store);
  if (!byKey) snapshots.set(store, (byKey = new Map()));
  const key = JSON.stringify([account, mailboxId]);
  const hit = byKey.get(key);
  if (hit) {
    const now = await store.openMailbox(account, mailboxId);
    if (now.version === hit.version && now.highestModseq === hit.highestModseq && now.uidNext === hit.uidNext
      && now.uidValidity === hit.uidValidity && now.syncState === hit.syncState) {
      byKey.delete(key);
      byKey.set(key, hit); // most recently used last
      return hit;
    }
  }
  return remember(store, account, mailboxId, await store.snapshot(account, mailboxId));
}

/** Keep `snap` as the mailbox's last known map (most recently used last), within MAX_SNAPSHOT_ENTRIES. */
function remember(store: UidStore, account: string, mailboxId: string, snap: MailboxSnapshot): MailboxSnapshot {
  let byKey = snapshots.get(store);
  if (!byKey) snapshots.set(store, (byKey = new Map()));
  const key = JSON.stringify([account, mailboxId]);
  byKey.delete(key);
  byKey.set(key, snap);
  let total = 0;
  for (const s of byKey.values()) total += s.entries.length;
  for (const [k, s] of byKey) {
    if (total <= MAX_SNAPSHOT_ENTRIES || k === key) break;
    byKey.delete(k);
    total -= s.entries.length;
  }
  return snap;
}

/** A map's entries split into columns (MailboxView keeps UIDs and email ids apart). */
export interface Columns {
  readonly uids: readonly number[];
  readonly emailIds: readonly string[];
}

const columnCache = new WeakMap<UidEntry[], Columns>();

/** The columns of an entries array, built once: a warm SELECT of a reused snapshot copies them instead of mapping. */
function columnsOf(entries: UidEntry[]): Columns {
  let c = columnCache.get(entries);
  if (!c) columnCache.set(entries, (c = { uids: entries.map((e) => e.uid), emailIds: entries.map((e) => e.emailId) }));
  return c;
}

/** Email id -> index in `entries`, built once per snapshot (snapshots are reused, see `snapshotOf`). */
const indexes = new WeakMap<MailboxSnapshot, Map<string, number>>();
const EMPTY_INDEX: ReadonlyMap<string, number> = new Map();

function indexOf(snap: MailboxSnapshot): ReadonlyMap<string, number> {
  let index = indexes.get(snap);
  if (!index) indexes.set(snap, (index = new Map(snap.entries.map((e, i) => [e.emailId, i] as const))));
  return index;
}

/** One sync at a time per (store, account, mailbox) in this process: waiters queue behind the running one. */
const queues = new WeakMap<UidStore, Map<string, Promise<unknown>>>();

function serialized<T>(store: UidStore, account: string, mailboxId: string, fn: () => Promise<T>): Promise<T> {
  let byKey = queues.get(store);
  if (!byKey) queues.set(store, (byKey = new Map()));
  const key = JSON.stringify([account, mailboxId]);
  const prev = byKey.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  byKey.set(key, tail);
  void tail.then(() => { if (byKey.get(key) === tail) byKey.delete(key); });
  return next;
}
