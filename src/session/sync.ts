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
 * `Email/changes` reported updated (keywords) one new mod-sequence, but only those changed after the state the map
 * records: the rest were bumped by the sync that recorded it. A spurious second bump is NOT harmless: a client that
 * sends `STORE (UNCHANGEDSINCE <the MODSEQ it was shown>)` would get a false [MODIFIED] (RFC 7162 §3.1.3), and
 * CHANGEDSINCE would report unchanged flags. So a catch-up from a view's older state asks `Email/changes` since the
 * map's state too (one more request, only when another session moved the map and something changed since), and
 * the gateway's own keyword writes are settled by `settleOwnWrite` (one bump, and the map's state moved past the
 * write when nothing else came between), not bumped again by the next sync.
 */
import { isCannotCalculateChanges, type Changes as JmapChanges, type EmailMeta, type MailBackend, type WriteStates } from '../backend/backend.ts';
import { ImapError } from '../protocol/errors.ts';
import { lowerBound } from '../protocol/sequence.ts';
import type { MailboxSnapshot, MailboxUidState, SyncCommit, UidEntry, UidStore } from '../uidmap/store.ts';

export interface SyncedMailbox {
  uidValidity: number;
  uidNext: number;
  /**
   * Live entries ascending by UID: index + 1 is the message sequence number. May be the process-wide snapshot's
   * own array (shared by every session: never mutate it).
   */
  entries: UidEntry[];
  /** RFC 7162 §3.1 mod-sequence of each entry (same index); may be the shared snapshot's: copy before changing it. */
  modseqs: number[];
  /** `entries` as two columns (UIDs, email ids), built once per entries array and shared: never mutate. */
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
export const CHANGES_PER_PAGE = 5_000;
/** Compare-and-set attempts before answering NO [UNAVAILABLE]; each waits a little longer (jittered). */
const MAX_ATTEMPTS = 12;

/** The map of one mailbox, brought up to date (SELECT, STATUS, APPEND/COPY targets). */
export async function syncMailbox(backend: MailBackend, store: UidStore, account: string, mailboxId: string, prefetch?: Prefetch): Promise<SyncedMailbox> {
  return serialized(store, account, mailboxId, () => run(backend, store, account, mailboxId, null, prefetch)) as Promise<SyncedMailbox>;
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

/**
 * The first `Email/changes` page of a sync, already fetched by the caller (tree-cache.ts: in the same request as the
 * SELECT's `Mailbox/changes`, RFC 8620 §3.3), since the `syncState` of `state`: the mailbox's UID-store state the
 * caller read BEFORE that request. The sync's snapshot is taken as of `state` (a reused snapshot equal to it), so
 * the rule "snapshot before the JMAP reads" holds; used only by the first attempt and only when the snapshot
 * equals `state`.
 */
export interface Prefetch {
  state: MailboxUidState;
  changes: JmapChanges;
}

async function run(backend: MailBackend, store: UidStore, account: string, mailboxId: string, since: string | null, prefetch?: Prefetch): Promise<SyncedMailbox | Unchanged> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 << attempt)));
    let early: Changes | null = null;
    if (since !== null) {
      early = await collectChanges(backend, since);
      if (early && early.touched.size + early.destroyed.size === 0) return { unchanged: true, emailState: early.newState };
    }
    const pre = attempt === 0 ? prefetch : undefined;
    const snap = await snapshotOf(store, account, mailboxId, pre?.state);
    const first = pre && sameState(snap, pre.state) && pre.changes.oldState === snap.syncState ? pre.changes : undefined;
    const changes = snap.syncState === null ? null : early ?? await collectChanges(backend, snap.syncState, first);
    const plan = changes ? await incremental(backend, mailboxId, snap, changes, await bumpable(backend, snap, early && since, changes))
      : await full(backend, mailboxId, snap);
    const result = await commit(store, account, mailboxId, snap, plan, attempt);
    if (result) return result;
  }
  throw ImapError.no('Mailbox is changing too fast to synchronize; try again', 'UNAVAILABLE');
}

/**
 * After the gateway's own keyword write (STORE, FETCH's implicit `\Seen`) to emails of this mailbox: give their live
 * `uids` one new mod-sequence (RFC 7162 §3.1) and, when the write's `states` (RFC 8620 §5.3) start at the state the
 * map records, record the write's newState (UidStore.advanceSyncState), so the next sync does not see the write
 * and does not give the same messages a second mod-sequence (RFC 7162 §3.1.3: a client's UNCHANGEDSINCE with the
 * value it was shown must hold). `uids` must be this mailbox's UIDs of EVERY email the write changed: their other
 * mailboxes' maps are not advanced, so their own syncs still see the change and bump it there. A write that raced
 * another writer (the map records another state) advances nothing: the next sync bumps again (conservative).
 * Serialized with this mailbox's syncs; keeps the process-wide snapshot when nothing else came between.
 * `view`: the writing session's view (its `emailState`, view.ts), moved past the write too when it was at oldState
 * (its entries are the same, its mod-sequences are the caller's to set), so its next catch-up neither reads the
 * write back nor pays for the map being ahead of it. Returns the new HIGHESTMODSEQ, the touched messages' one.
 */
export async function settleOwnWrite(store: UidStore, account: string, mailboxId: string, uids: number[], states: WriteStates | null, view?: { emailState: string }): Promise<number> {
  const key = JSON.stringify([account, mailboxId]);
  const behindSync = queues.get(store)?.has(key) ?? false; // a sync of this process may take the write in first
  return serialized(store, account, mailboxId, async () => {
    const taken = behindSync && states ? await syncedAlready(store, account, mailboxId, uids, states.newState) : null;
    if (taken !== null) return taken;
    const hit = snapshots.get(store)?.get(key);
    const modseq = await store.touch(account, mailboxId, uids);
    const touch = { uids: new Set(uids), modseq };
    if (!(await advance(store, account, mailboxId, states, view, hit, touch)) && hit) await keepOwn(store, account, mailboxId, hit, touch);
    return modseq;
  });
}

/**
 * The mod-sequence a sync of this process that ran first (an IDLE session woken by the write's push) already gave
 * all of `uids` for the write ending at `newState`: its commit recorded `newState` and touched them (a commit that
 * records the state right after the write and touches anything started from a state before it, so its changes
 * held the write), the map still records that state, and they all still have one value, at least that commit's.
 * Null otherwise: the caller touches them (at worst a second bump, never a change without one).
 */
async function syncedAlready(store: UidStore, account: string, mailboxId: string, uids: number[], newState: string): Promise<number | null> {
  const t = lastTouch.get(store)?.get(JSON.stringify([account, mailboxId]));
  if (!t || t.syncState !== newState) return null;
  const snap = await snapshotOf(store, account, mailboxId);
  if (snap.syncState !== newState) return null;
  const wanted = new Set(uids);
  const rows = snap.entries.flatMap((e, i) => (wanted.has(e.uid) ? [{ id: e.emailId, m: snap.modseqs[i]! }] : []));
  if (rows.length !== wanted.size || !rows.every((r) => t.ids.has(r.id) && r.m >= t.modseq)) return null;
  const values = new Set(rows.map((r) => r.m));
  return values.size === 1 ? rows[0]!.m : null;
}

/** The last touching commit of each mailbox by this process (syncedAlready); small ones only, MAX_TOUCH_NOTES. */
interface TouchNote { syncState: string; modseq: number; ids: ReadonlySet<string> }
const lastTouch = new WeakMap<UidStore, Map<string, TouchNote>>();
const MAX_TOUCH_NOTES = 1_000;
const MAX_NOTED_IDS = 1_000;

function noteTouch(store: UidStore, account: string, mailboxId: string, note: TouchNote): void {
  let byKey = lastTouch.get(store);
  if (!byKey) lastTouch.set(store, (byKey = new Map()));
  const key = JSON.stringify([account, mailboxId]);
  byKey.delete(key);
  if (note.ids.size === 0 || note.ids.size > MAX_NOTED_IDS) return;
  byKey.set(key, note);
  if (byKey.size > MAX_TOUCH_NOTES) byKey.delete(byKey.keys().next().value!);
}

/**
 * After the gateway's own `mailboxIds` write (COPY/MOVE, RFC 9051 §6.4.7, RFC 6851) whose every email this map
 * already reflects: the copies assigned here (destination), or the originals that stay with unchanged flags (a
 * COPY's source: RFC 7162 §3.1, nothing of theirs an IMAP client sees changed) or were expunged here (a MOVE's
 * source). Records the write's newState as `settleOwnWrite` does, so the next sync does not give those messages a
 * new mod-sequence for it; nothing when the write raced another (conservative).
 */
export async function passOwnWrite(store: UidStore, account: string, mailboxId: string, states: WriteStates | null, view?: { emailState: string }): Promise<void> {
  if (!states) return;
  await serialized(store, account, mailboxId, async () => {
    const hit = snapshots.get(store)?.get(JSON.stringify([account, mailboxId]));
    await advance(store, account, mailboxId, states, view, hit, null);
  });
}

/** A view that reported every change of the map up to its state (MailboxView: RFC 7162 §3.2 `reportedModseq`). */
export interface ReportedView { emailState: string; highestModseq: number; reportedModseq: number }

/**
 * passOwnWrite after an own expunge the session has just reported (EXPUNGE / UID EXPUNGE, RFC 9051 §6.4.3): the
 * view moves past the write only when the kept snapshot proves the map is exactly the view's entries at the new state
 * (the view was at the write's oldState, as the map; the only change since was this write), and then takes the
 * map's HIGHESTMODSEQ as reported (every expunge of the map is one the client was told of). Otherwise the view stays
 * behind and its next catch-up adopts the map as usual.
 */
export async function passOwnExpunge(store: UidStore, account: string, mailboxId: string, states: WriteStates | null, view: ReportedView): Promise<void> {
  if (!states) return;
  await serialized(store, account, mailboxId, async () => {
    const key = JSON.stringify([account, mailboxId]);
    const hit = snapshots.get(store)?.get(key);
    const atOld = view.emailState === states.oldState;
    if (!(await advance(store, account, mailboxId, states, undefined, hit, null)) || !atOld) return;
    const now = snapshots.get(store)?.get(key);
    if (!now || now.syncState !== states.newState) return;
    view.emailState = states.newState;
    view.highestModseq = Math.max(view.highestModseq, now.highestModseq);
    view.reportedModseq = now.highestModseq;
  });
}

/**
 * The compare-and-set of an own write's states, the view following; then the process-wide snapshot `hit` is kept
 * (with the touched entries' new mod-sequence) when the store's numbers prove that only this write's touch (one
 * new mod-sequence, when it touched a live entry of `hit`) and this advance (one version) came after `hit`.
 * Returns whether it kept one.
 */
async function advance(store: UidStore, account: string, mailboxId: string, states: WriteStates | null, view: { emailState: string } | undefined,
  hit: MailboxSnapshot | undefined, touch: { uids: ReadonlySet<number>; modseq: number } | null): Promise<boolean> {
  if (!states || !(await store.advanceSyncState(account, mailboxId, states.oldState, states.newState))) return false;
  if (view?.emailState === states.oldState) view.emailState = states.newState;
  if (!hit || hit.syncState !== states.oldState) return false;
  const highest = touch ? hit.highestModseq + 1 : hit.highestModseq;
  const at = touch ? [...touch.uids].map((u) => uidIndex(hit.entries, u)).filter((i) => i >= 0) : [];
  if (touch && (touch.modseq !== highest || at.length === 0)) return false;
  const now = await store.openMailbox(account, mailboxId);
  if (now.version !== hit.version + 1 || now.highestModseq !== highest || now.uidNext !== hit.uidNext
    || now.uidValidity !== hit.uidValidity || now.syncState !== states.newState) return false;
  const modseqs = touch ? hit.modseqs.slice() : hit.modseqs;
  for (const i of at) modseqs[i] = touch!.modseq;
  remember(store, account, mailboxId, { ...now, entries: hit.entries, modseqs });
  return true;
}

/**
 * APPEND's and COPY's `assign` to a mailbox (UidStore.assign), serialized with its syncs in this process; the
 * process-wide snapshot is kept with the new UIDs when the write provably was the only change since it (keepOwn),
 * so the next sync of any session reads one row instead of the whole map.
 * With `own` (APPEND's `Email/import`, RFC 8621 §4.8, that created exactly `emailIds`, in this mailbox only): its
 * `states` are settled in the same serialized step (UidStore.advanceSyncState compare-and-set, as passOwnWrite
 * does), so no sync reads the import back and gives the new messages a second mod-sequence (RFC 7162 §3.1).
 */
export async function assignOwn(store: UidStore, account: string, mailboxId: string, emailIds: string[], own?: OwnImport): Promise<Map<string, number>> {
  return serialized(store, account, mailboxId, async () => {
    const hit = snapshots.get(store)?.get(JSON.stringify([account, mailboxId]));
    const assigned = await store.assign(account, mailboxId, emailIds);
    const states = own?.states;
    if (!own || !states) {
      if (hit) await keepOwn(store, account, mailboxId, hit, { assigned });
      return assigned;
    }
    own.advanced = await store.advanceSyncState(account, mailboxId, states.oldState, states.newState);
    if (!own.advanced || !hit || hit.syncState !== states.oldState) return assigned;
    // Kept when the numbers prove that only this assign (one mod-sequence) and this advance (one version) came after `hit`.
    const now = await store.openMailbox(account, mailboxId);
    const kept = now.version === hit.version + 1 && now.uidValidity === hit.uidValidity && now.syncState === states.newState
      ? afterAssign(hit, now, assigned) : null;
    if (kept) { remember(store, account, mailboxId, kept); own.modseq = now.highestModseq; }
    return assigned;
  });
}

/**
 * APPEND's import settled by `assignOwn`: in, its RFC 8621 §4.8 `oldState`/`newState` (null: not told); out,
 * whether the map now records `newState` (`advanced`), and the new messages' one mod-sequence when the kept
 * snapshot proves it (`modseq`; RFC 7162 §3.1), so the writing session's view can take them in without a catch-up.
 */
export interface OwnImport {
  readonly states: WriteStates | null;
  advanced?: boolean;
  modseq?: number;
}

/**
 * The gateway's own expunge of `uids` from the map (EXPUNGE, UID EXPUNGE, CLOSE: RFC 9051 §6.4.3, RFC 4315; a MOVE's
 * source), serialized with the mailbox's syncs in this process; the process-wide snapshot is kept without them when
 * `expunge`'s answer proves it was the only write since (keepOwn). Returns the UIDs it removed (UidStore.expunge).
 */
export async function expungeOwn(store: UidStore, account: string, mailboxId: string, uids: number[]): Promise<number[]> {
  return serialized(store, account, mailboxId, async () => {
    const hit = snapshots.get(store)?.get(JSON.stringify([account, mailboxId]));
    const removed = await store.expunge(account, mailboxId, uids);
    if (hit) await keepOwn(store, account, mailboxId, hit, { removed });
    return removed;
  });
}

/**
 * What an own write did: `assign`'s answer (every id's live UID), `touch`'s UIDs and its answer (HIGHESTMODSEQ), or
 * `expunge`'s answer (the UIDs it removed).
 */
type OwnWrite = { assigned: ReadonlyMap<string, number> } | { uids: ReadonlySet<number>; modseq: number } | { removed: number[] };

/**
 * After an own write, with `hit` the snapshot cached before it: keep `hit` with the write applied (new arrays, `hit`'s
 * are shared read-only) when the state read now proves the write was the only change since `hit` (store.ts: every
 * write that changes an entry or a mod-sequence takes exactly one new HIGHESTMODSEQ; removing a live entry or
 * recording a sync moves `version`). Otherwise nothing: `hit` then fails snapshotOf's state check and is read again.
 * An expunge that removed entries moved `version` by exactly one (store.ts UidStore.expunge).
 */
async function keepOwn(store: UidStore, account: string, mailboxId: string, hit: MailboxSnapshot, w: OwnWrite): Promise<void> {
  const now = await store.openMailbox(account, mailboxId);
  const versions = 'removed' in w && w.removed.length > 0 ? 1 : 0;
  if (now.uidValidity !== hit.uidValidity || now.syncState !== hit.syncState || now.version !== hit.version + versions) return;
  const kept = 'assigned' in w ? afterAssign(hit, now, w.assigned)
    : 'removed' in w ? afterExpunge(hit, now, w.removed) : afterTouch(hit, now, w.uids, w.modseq);
  if (!kept) return;
  remember(store, account, mailboxId, kept);
}

/**
 * The ids with a UID from `hit`'s UIDNEXT up are new: they must be exactly UIDNEXT, UIDNEXT + 1, ... (so no other
 * assign came between) under one new mod-sequence; the others must be `hit`'s own entries. `version` unchanged (the
 * caller checked): nothing was removed.
 */
function afterAssign(hit: MailboxSnapshot, now: MailboxUidState, assigned: ReadonlyMap<string, number>): MailboxSnapshot | null {
  const fresh: UidEntry[] = [];
  for (const [emailId, uid] of assigned) {
    if (uid >= hit.uidNext) fresh.push({ uid, emailId });
    else if (hit.entries[uidIndex(hit.entries, uid)]?.emailId !== emailId) return null;
  }
  fresh.sort((a, b) => a.uid - b.uid);
  if (fresh.length === 0 || !fresh.every((e, i) => e.uid === hit.uidNext + i)) return null; // none new: `hit` is still the map
  if (now.uidNext !== hit.uidNext + fresh.length || now.highestModseq !== hit.highestModseq + 1) return null;
  return { ...now, ...applied(hit, [], NOTHING, fresh, now.highestModseq) };
}

/**
 * `version` unchanged (the caller checked): no live entry of `hit` was removed, so a touch of one of them took a new
 * mod-sequence; when that is `hit`'s + 1 and still the HIGHESTMODSEQ, it was the only change.
 */
function afterTouch(hit: MailboxSnapshot, now: MailboxUidState, uids: ReadonlySet<number>, modseq: number): MailboxSnapshot | null {
  const at = [...uids].map((u) => uidIndex(hit.entries, u)).filter((i) => i >= 0);
  if (at.length === 0) return null;
  if (modseq !== hit.highestModseq + 1 || now.highestModseq !== modseq || now.uidNext !== hit.uidNext) return null;
  const modseqs = hit.modseqs.slice();
  for (const i of at) modseqs[i] = modseq;
  return { ...now, entries: hit.entries, modseqs };
}

/**
 * `version` moved by one iff `removed` is not empty (the caller checked). Every removed UID must be a live entry of
 * `hit` and the removal must be the only new mod-sequence: then no other writer came between.
 */
function afterExpunge(hit: MailboxSnapshot, now: MailboxUidState, removed: number[]): MailboxSnapshot | null {
  if (removed.length === 0) return sameState(now, hit) ? hit : null;
  if (removed.some((u) => uidIndex(hit.entries, u) < 0) || now.highestModseq !== hit.highestModseq + 1 || now.uidNext !== hit.uidNext) return null;
  return { ...now, ...applied(hit, removed, NOTHING, [], now.highestModseq) };
}

const NOTHING: ReadonlySet<string> = new Set();

/** Index of `uid` in entries ascending by UID, -1 when absent (the entries' cached UID column, sequence.ts lowerBound). */
function uidIndex(entries: UidEntry[], uid: number): number {
  const uids = columnsOf(entries).uids;
  const i = lowerBound(uids, uid);
  return uids[i] === uid ? i : -1;
}

/** What one sync decided from its snapshot. */
interface Plan {
  commit: SyncCommit;
  changed: EmailMeta[];
  mode: SyncedMailbox['mode'];
}

/** `Email/changes` pages since `since`, merged; null when the store cannot (or it would take too many pages). */
interface Changes { touched: Set<string>; destroyed: Set<string>; newState: string }

async function collectChanges(backend: MailBackend, since: string, first?: JmapChanges): Promise<Changes | null> {
  const touched = new Set<string>();
  const destroyed = new Set<string>();
  let state = since;
  try {
    for (let page = 0; ; page++) {
      if (page >= MAX_CHANGE_PAGES) return null;
      const ch = page === 0 && first ? first : await backend.emailChanges(state, CHANGES_PER_PAGE);
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

/**
 * The ids changed after the map's recorded state, when `ch` (a catch-up's, since the view's older state) may hold
 * more: only those get a new mod-sequence (the others got theirs from the sync that recorded the map's state, or
 * from `settleOwnWrite`). Null: every changed id may (the changes are the map's own, or the store cannot tell).
 */
async function bumpable(backend: MailBackend, snap: MailboxSnapshot, since: string | null, ch: Changes): Promise<ReadonlySet<string> | null> {
  if (since === null || snap.syncState === null || since === snap.syncState || snap.syncState === ch.newState || ch.touched.size === 0) return null;
  return (await collectChanges(backend, snap.syncState))?.touched ?? null;
}

async function incremental(backend: MailBackend, mailboxId: string, snap: MailboxSnapshot, ch: Changes, bump: ReadonlySet<string> | null): Promise<Plan> {
  // Read after the snapshot: an email this sync expunges was really gone, after the snapshot saw it mapped.
  const metas = ch.touched.size > 0 ? await backend.getEmails([...ch.touched]) : [];
  const here = new Map(metas.filter((m) => m.mailboxIds.includes(mailboxId)).map((m) => [m.id, m] as const));
  const index = ch.touched.size + ch.destroyed.size > 0 ? uidsById(snap.entries) : EMPTY_INDEX; // O(changes) when none
  const liveIds = { has: (id: string) => index.has(id) };
  const gone = [...ch.destroyed, ...[...ch.touched].filter((id) => !here.has(id))]
    .flatMap((id) => { const uid = index.get(id); return uid === undefined ? [] : [{ uid, emailId: id }]; })
    .sort((a, b) => a.uid - b.uid);
  // Live emails still here whose metadata changed after the map's state get a new mod-sequence (none when the map
  // already reflects newState).
  const touch = snap.syncState === ch.newState ? [] : [...here.keys()].filter((id) => liveIds.has(id) && (bump === null || bump.has(id)));
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
    return { uidValidity, uidNext, entries: snap.entries, modseqs: snap.modseqs, columns: columnsOf(snap.entries),
      highestModseq, emailState: c.syncState, changed: p.changed, mode: p.mode, retries };
  }
  const touched = new Set(c.touch);
  noteTouch(store, account, mailboxId, { syncState: c.syncState, modseq: highestModseq, ids: touched });
  // Everything this commit changed has its one new mod-sequence, which is now the HIGHESTMODSEQ.
  const fresh = c.assign.map((emailId) => ({ uid: done.assigned.get(emailId)!, emailId }));
  const { entries, modseqs } = applied(snap, c.expunge, touched, fresh, highestModseq);
  if (alone) remember(store, account, mailboxId, { ...done.state, syncState: c.syncState, entries, modseqs });
  return {
    uidValidity, uidNext, entries, modseqs, columns: columnsOf(entries), highestModseq,
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

/** `known`: the mailbox's state as read by the caller just now (Prefetch), instead of reading it again. */
async function snapshotOf(store: UidStore, account: string, mailboxId: string, known?: MailboxUidState): Promise<MailboxSnapshot> {
  let byKey = snapshots.get(store);
  if (!byKey) snapshots.set(store, (byKey = new Map()));
  const key = JSON.stringify([account, mailboxId]);
  const hit = byKey.get(key);
  if (hit) {
    const now = known ?? await store.openMailbox(account, mailboxId);
    if (sameState(now, hit)) {
      byKey.delete(key);
      byKey.set(key, hit); // most recently used last
      return hit;
    }
  }
  return remember(store, account, mailboxId, await store.snapshot(account, mailboxId));
}

/** Every write that changes the live map or a mod-sequence moves one of these (store.ts MailboxUidState). */
function sameState(a: MailboxUidState, b: MailboxUidState): boolean {
  return a.version === b.version && a.highestModseq === b.highestModseq && a.uidNext === b.uidNext
    && a.uidValidity === b.uidValidity && a.syncState === b.syncState;
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

/**
 * Email id -> UID of the live entries, per entries array: built once for a map read from the store, then carried
 * from a snapshot to the one derived from it by an own write or a commit (moveIndex), so a sync after each change
 * does not rebuild it (O(changes) instead of O(mailbox)).
 */
const indexes = new WeakMap<UidEntry[], Map<string, number>>();
const EMPTY_INDEX: ReadonlyMap<string, number> = new Map();

function uidsById(entries: UidEntry[]): ReadonlyMap<string, number> {
  let index = indexes.get(entries);
  if (!index) indexes.set(entries, (index = new Map(entries.map((e) => [e.emailId, e.uid] as const))));
  return index;
}

/** Hand `from`'s index (if built) to `to`, the entries derived from it without `gone` and with `added`. */
function moveIndex(from: UidEntry[], to: UidEntry[], gone: UidEntry[], added: UidEntry[]): void {
  const index = indexes.get(from);
  if (!index || from === to) return;
  indexes.delete(from);
  for (const e of gone) index.delete(e.emailId);
  for (const e of added) index.set(e.emailId, e.uid);
  indexes.set(to, index);
}

/**
 * `snap`'s entries without the UIDs `expunge`, plus `fresh` (new UIDs), with one pass over the map: the touched
 * ids and the new entries take `modseq`; the columns are built in the same pass (columnsOf), and `snap`'s index is
 * carried over (moveIndex).
 */
function applied(snap: MailboxSnapshot, expunge: number[], touched: ReadonlySet<string>, fresh: UidEntry[], modseq: number): { entries: UidEntry[]; modseqs: number[] } {
  const gone = new Set(expunge);
  const entries: UidEntry[] = [];
  const modseqs: number[] = [];
  const uids: number[] = [];
  const emailIds: string[] = [];
  const removed: UidEntry[] = [];
  const add = (e: UidEntry, m: number) => { entries.push(e); modseqs.push(m); uids.push(e.uid); emailIds.push(e.emailId); };
  const sorted = [...fresh].sort((a, b) => a.uid - b.uid);
  let k = 0;
  snap.entries.forEach((e, i) => {
    while (k < sorted.length && sorted[k]!.uid < e.uid) add(sorted[k++]!, modseq);
    if (gone.size > 0 && gone.has(e.uid)) removed.push(e);
    else add(e, touched.size > 0 && touched.has(e.emailId) ? modseq : snap.modseqs[i]!);
  });
  while (k < sorted.length) add(sorted[k++]!, modseq);
  columnCache.set(entries, { uids, emailIds });
  moveIndex(snap.entries, entries, removed, sorted);
  return { entries, modseqs };
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
