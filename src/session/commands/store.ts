/**
 * STORE / UID STORE (RFC 9051 §6.4.6, §6.4.9): FLAGS, +FLAGS, -FLAGS and their .SILENT forms, and the CONDSTORE
 * modifier UNCHANGEDSINCE (RFC 7162 §3.1.3).
 *
 * Keywords live in JMAP (an `Email/set` keywords patch per message, all-or-nothing: JmapBackend.updateKeywords);
 * `\Deleted` lives in the UID store (DESIGN.md rule 6). Messages whose flags really changed get one new
 * mod-sequence (UidStore.touch); setting a flag already set changes nothing (RFC 7162 §3.1). Under CONDSTORE a
 * .SILENT STORE still answers `FETCH (MODSEQ)` for the messages it changed (RFC 7162 Example 14, §6 example A151;
 * Dovecot does). The view remembers the flags the client now knows, so the next catch-up does not report this
 * session's own change again (view.ts `shown`). Three ways, by what the command needs to know first:
 *
 * - Write first (FLAGS/+FLAGS/-FLAGS with keywords, no UNCHANGEDSINCE, at most WRITE_FIRST_MAX messages, rights
 *   for every change it could make, and every message's keywords as last learned (known-keywords.ts: the session's
 *   own APPEND/STORE, else the keyword cache) show that the command really changes it): ONE request. The patch needs no current keywords (+FLAGS `keywords/<k>: true`,
 *   -FLAGS `keywords/<k>: null`, FLAGS the whole `keywords`); the `Email/get` before each `Email/set` in that
 *   request gives the keywords just before the write (KeywordWriteReport), from which come what really changed and
 *   the flags after. When another writer came between the two (the states differ) that is not known: the flags
 *   are read again (one request, only without .SILENT) and every written message counts as changed, with no state
 *   recorded (a second mod-sequence at worst, never a change without one). Emails gone from the store (`notFound`)
 *   are skipped. An update that changes nothing may still move the store's Email state (Cyrus 3.6 does), and a
 *   sync that cannot be moved past it (the map was behind, or the email is in another mailbox too) would give the
 *   message a mod-sequence for nothing: hence the prediction above. When it was wrong (another writer changed the
 *   email since it was learned), the write's states are still recorded when they can be (sync.ts settleOwnWrite /
 *   passOwnWrite); otherwise a second mod-sequence, for a message another writer did change.
 * - `\Deleted` only, .SILENT, without CONDSTORE: no JMAP request at all (no FLAGS to send, no MODSEQ to report).
 *   The client's known flags (view.ts `shown`) become those it knew with `\Deleted` changed: what it determined
 *   itself (RFC 9051 §6.4.6). A message whose email is already gone from JMAP (not known without asking) gets the
 *   flag in the UID store like the others; the next sync expunges it, and EXPUNGE skips emails already gone.
 * - Read first (everything else): one `Email/get` of the current keywords, then, when anything changes, one
 *   request of `Email/get` + `Email/set` (and one more to revert on a partial failure). For UNCHANGEDSINCE (the
 *   mod-sequence check must come first), a non-silent or CONDSTORE `\Deleted`-only STORE (the keywords are needed
 *   for FLAGS), more than WRITE_FIRST_MAX messages, keywords not known or not changed, and a mailbox whose rights (RFC 8621 §2 myRights) forbid a
 *   change the command could make: RFC 4314 §4 checks the rights of the flags a STORE "modifies", so
 *   `+FLAGS (\Seen)` on a message already seen passes without maySetSeen; only the read tells, and this way keeps
 *   that answer.
 *
 * UNCHANGEDSINCE: the current mod-sequences are read through a UID-map sync (so a keyword change made directly in
 * JMAP counts), messages above the value are left alone and reported in `[MODIFIED set]`, and the patch carries
 * JMAP `ifInState` = the state that sync saw: a change racing in between makes JMAP refuse (`stateMismatch`,
 * nothing written) and the whole check runs again, up to CONDITIONAL_ATTEMPTS times. It adds one `Email/changes`
 * (plus an `Email/get` of changed ids) per attempt.
 */
import { isStateMismatch, type KeywordChange, type KeywordWriteReport, type MailboxRights, type WriteStates } from '../../backend/backend.ts';
import { codes } from '../../protocol/encode.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, FetchResponseItem } from '../../protocol/types.ts';
import { enableCondstore, freshModseqs, guardHighestModseq, isCondstore, isQresync } from '../condstore.ts';
import type { HandlerResult } from '../dispatch.ts';
import { parseFlagArgs, type FlagArgs } from '../flag-args.ts';
import type { Session } from '../session.ts';
import { flagsKey, type MessageRef } from '../view.ts';
import { passOwnWrite, settleOwnWrite } from '../sync.ts';
import { keywordsOf } from '../keyword-cache.ts';
import { knownKeywords, noteKeywords } from '../known-keywords.ts';

type Store = CommandOf<'STORE'>;

/** Attempts of a conditional STORE whose `ifInState` lost a race with another JMAP writer. */
const CONDITIONAL_ATTEMPTS = 5;

/**
 * Up to this many messages a keyword STORE is written at once (one request). A larger one (a client's "mark all
 * read") reads first, so that emails already as wanted are not written: a store may count such an update as a
 * change (Cyrus 3.6 moves its Email state, lists the email in `Email/changes` and gives it a new IMAP MODSEQ), which
 * would make every JMAP client, and the gateway's keyword cache (keyword-cache.ts), read them all again.
 */
const WRITE_FIRST_MAX = 100;

export async function storeCommand(s: Session, c: Store): Promise<HandlerResult> {
  const view = s.selected!;
  if (view.readOnly) throw view.readOnlyError();
  if (c.unchangedSince !== undefined) await enableCondstore(s); // RFC 7162 §3.1: an enabling command
  const refs = view.resolve(c.sequence, c.uid);
  if (refs.length === 0) return;
  const want = parseFlagArgs(c.flags);
  if (c.unchangedSince === undefined && rightsCoverAll(view.mailbox.info.myRights, c, want, deletedFlips(s, c, want, refs).length > 0)) {
    if (c.action === 'replace' || want.keywords.length > 0) {
      if (refs.length <= WRITE_FIRST_MAX && changesEvery(s, c, want, refs)) return storeWritingFirst(s, c, want, refs);
    } else if (c.silent && !isCondstore(s)) return storeDeletedSilently(s, c, want, refs);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await storeReadingFirst(s, c, want, refs);
    } catch (err) {
      if (c.unchangedSince === undefined || !isStateMismatch(err) || attempt >= CONDITIONAL_ATTEMPTS) throw err;
    }
  }
}

/**
 * Whether every message's keywords, as last learned (the session's own APPEND/STORE, else the account's keyword
 * cache), would really change: only then is the write sent without reading first (known-keywords.ts: a write that
 * changes nothing may still count as a change on the store). Unknown keywords: read first.
 */
function changesEvery(s: Session, c: Store, want: FlagArgs, refs: MessageRef[]): boolean {
  const cache = keywordsOf(s.account!, s.config.messageCache?.keywords);
  return refs.every((r) => {
    const cur = knownKeywords(s, r.emailId) ?? cache.get(r.emailId);
    if (cur === undefined) return false;
    const p = planKeywords(cur.map((k) => k.toLowerCase()), c.action, want.keywords);
    return p.add.length + p.remove.length > 0;
  });
}

/** The read-first way (see the header): UNCHANGEDSINCE, restricted rights, keywords needed for the answer. */
async function storeReadingFirst(s: Session, c: Store, want: FlagArgs, refs: MessageRef[]): Promise<HandlerResult> {
  const view = s.selected!;
  const account = s.account!;
  let targets = refs;
  let failed: MessageRef[] = [];
  let ifInState: string | undefined;
  const since = c.unchangedSince;
  if (since !== undefined) {
    ifInState = (await freshModseqs(s)).emailState;
    failed = refs.filter((r) => view.modseqOf(r.uid) > since); // RFC 7162 §3.1.3: not performed
    targets = refs.filter((r) => view.modseqOf(r.uid) <= since);
  }
  const metas = new Map((await account.backend.getEmails(targets.map((r) => r.emailId))).map((m) => [m.id, m] as const));
  const live = targets.filter((r) => metas.has(r.emailId)); // gone from the store since the view was built: skipped
  const after = new Map<number, string[]>();
  const before = new Map<number, string>(); // flagsKey of the flags before this STORE
  const changes: KeywordChange[] = [];
  for (const r of live) {
    const cur = metas.get(r.emailId)!.keywords.map((k) => k.toLowerCase());
    before.set(r.uid, flagsKey(view.flagsOf(r.uid, cur)));
    const p = planKeywords(cur, c.action, want.keywords);
    after.set(r.uid, p.after);
    changes.push({ id: r.emailId, add: p.add, remove: p.remove });
  }
  const flip = deletedFlips(s, c, want, live);
  checkRights(s, changes, flip.length > 0);
  const { on, off } = splitFlips(s, flip);
  // `\Deleted` first: local and revertible, so a refused keyword patch leaves nothing changed.
  await markDeleted(s, on, off);
  let states;
  try {
    states = await account.backend.updateKeywords(changes, ifInState !== undefined ? { ifInState } : {});
  } catch (err) {
    await markDeleted(s, off, on);
    throw err;
  }
  noteDeleted(s, on, off);
  const changedIds = new Set(changes.filter((ch) => ch.add.length + ch.remove.length > 0).map((ch) => ch.id));
  return answer(s, c, { live, after, before, changedIds, flip, states, failed });
}

/** The write-first way (see the header): one request, the keywords before the write read in it. */
async function storeWritingFirst(s: Session, c: Store, want: FlagArgs, refs: MessageRef[]): Promise<HandlerResult> {
  const view = s.selected!;
  const account = s.account!;
  const flip = deletedFlips(s, c, want, refs);
  const { on, off } = splitFlips(s, flip);
  const changes = refs.map((r): KeywordChange => (c.action === 'replace' ? { id: r.emailId, add: [], remove: [], replace: want.keywords }
    : c.action === 'add' ? { id: r.emailId, add: want.keywords, remove: [] } : { id: r.emailId, add: [], remove: want.keywords }));
  const report: KeywordWriteReport = { before: new Map(), missing: new Set(), exact: true };
  await markDeleted(s, on, off); // first, as above: local and revertible
  let states;
  try {
    states = await account.backend.updateKeywords(changes, { report });
  } catch (err) {
    await markDeleted(s, off, on);
    throw err;
  }
  const live = refs.filter((r) => !report.missing.has(r.emailId)); // gone from the store: skipped, as when read first
  if (live.length < refs.length) {
    const gone = new Set(refs.filter((r) => report.missing.has(r.emailId)).map((r) => r.uid));
    await markDeleted(s, off.filter((u) => gone.has(u)), on.filter((u) => gone.has(u)));
  }
  const liveUids = new Set(live.map((r) => r.uid));
  const liveOn = on.filter((u) => liveUids.has(u));
  const liveOff = off.filter((u) => liveUids.has(u));
  const exact = report.exact && live.every((r) => report.before.has(r.emailId));
  const after = new Map<number, string[]>();
  const before = new Map<number, string>();
  const changedIds = new Set<string>();
  if (exact) {
    for (const r of live) {
      const cur = report.before.get(r.emailId)!.map((k) => k.toLowerCase());
      before.set(r.uid, flagsKey(view.flagsOf(r.uid, cur)));
      const p = planKeywords(cur, c.action, want.keywords);
      after.set(r.uid, p.after);
      if (p.add.length + p.remove.length > 0) changedIds.add(r.emailId);
    }
  } else {
    // Another writer came between the read and the write: what this write changed is unknown, so every written
    // message counts as changed and the states are not recorded (sync.ts settleOwnWrite: conservative); the
    // flags sent are read again, and with .SILENT nothing is taken as known (`before` left empty).
    for (const r of live) changedIds.add(r.emailId);
    const now = c.silent ? [] : await account.backend.getEmails(live.map((r) => r.emailId));
    const uidOf = new Map(live.map((r) => [r.emailId, r.uid] as const));
    for (const m of now) after.set(uidOf.get(m.id)!, m.keywords.map((k) => k.toLowerCase()));
    for (const r of live) {
      if (!after.has(r.uid)) after.set(r.uid, planKeywords((report.before.get(r.emailId) ?? []).map((k) => k.toLowerCase()), c.action, want.keywords).after);
    }
    states = null;
  }
  noteDeleted(s, liveOn, liveOff);
  return answer(s, c, { live, after, before, changedIds, flip: [...liveOn, ...liveOff], states, failed: [] });
}

/**
 * The `\Deleted`-only .SILENT STORE without CONDSTORE (see the header): the UID store alone, no JMAP request. No
 * untagged response (RFC 9051 §6.4.6 .SILENT; no MODSEQ without CONDSTORE, RFC 7162 §3.1.3).
 */
async function storeDeletedSilently(s: Session, c: Store, want: FlagArgs, refs: MessageRef[]): Promise<HandlerResult> {
  const view = s.selected!;
  const flip = deletedFlips(s, c, want, refs);
  if (flip.length === 0) return;
  const { on, off } = splitFlips(s, flip);
  await markDeleted(s, on, off);
  noteDeleted(s, on, off);
  for (const u of flip) {
    const known = view.shownKey(u);
    const flags = known === undefined ? null : flagsOfKey(known);
    if (flags === null) continue; // never shown: a later catch-up reports them when they change elsewhere
    const rest = flags.filter((f) => f !== '\\deleted');
    view.noteShown(u, view.deleted.has(u) ? [...rest, '\\deleted'] : rest);
  }
  await settle(s, flip, null);
}

/**
 * The flags of a `shown` key (view.ts flagsKey: the flags lower-cased, sorted, joined by one space; flags are atoms,
 * RFC 9051 §9, so without spaces), or null when the key does not read back as itself (another format: not trusted).
 */
function flagsOfKey(key: string): string[] | null {
  const flags = key === '' ? [] : key.split(' ');
  return flagsKey(flags) === key ? flags : null;
}

/** What the client is told (and the mod-sequences), common to the ways that write. */
interface Outcome {
  /** The messages the STORE was performed on (email still in the store). */
  live: MessageRef[];
  /** UID -> keywords (lower case) after the STORE. */
  after: Map<number, string[]>;
  /** UID -> flagsKey of its flags before the STORE, when known (the .SILENT rule of `shown`). */
  before: Map<number, string>;
  /** Emails whose keywords this STORE changed. */
  changedIds: Set<string>;
  /** UIDs whose `\Deleted` this STORE changed. */
  flip: number[];
  /** The keyword write's states (RFC 8620 §5.3), null when not known to be this write's alone. */
  states: WriteStates | null;
  /** UNCHANGEDSINCE: messages not stored (RFC 7162 §3.1.3 [MODIFIED]). */
  failed: MessageRef[];
}

/** The mod-sequences (settle), the untagged FETCH responses and the tagged code of a STORE that wrote. */
async function answer(s: Session, c: Store, o: Outcome): Promise<HandlerResult> {
  const view = s.selected!;
  // RFC 7162 §3.1: one new mod-sequence for the messages whose flags really changed, and only one: every email the
  // patch changed is among them, so the map may move past the write (sync.ts settleOwnWrite).
  const flipped = new Set(o.flip);
  const touched = o.live.filter((r) => o.changedIds.has(r.emailId) || flipped.has(r.uid)).map((r) => r.uid);
  for (const r of o.live) noteKeywords(s, r.emailId, o.after.get(r.uid)!);
  await settle(s, touched, o.states);

  const condstore = isCondstore(s);
  const bumped = new Set(touched);
  const since = c.unchangedSince;
  for (const r of o.live) {
    const flags = view.flagsOf(r.uid, o.after.get(r.uid)!);
    // What the client now knows (a later catch-up does not repeat it, view.ts `shown`): the FLAGS sent, or with
    // .SILENT the flags it determined itself (RFC 9051 §6.4.6) from those it was shown, when they were still the
    // message's. Otherwise (never shown, or changed elsewhere since) the catch-up reports them (RFC 9051 §6.4.6 Note).
    const b = o.before.get(r.uid);
    if (!c.silent || (b !== undefined && view.shownKey(r.uid) === b)) view.noteShown(r.uid, flags);
    // RFC 7162 §3.1.3: with UNCHANGEDSINCE a FETCH with MODSEQ is sent even for .SILENT; without it, a .SILENT
    // STORE that gave a message a new mod-sequence reports it to a CONDSTORE client (Example 14; Dovecot does).
    if (c.silent && since === undefined && !(condstore && bumped.has(r.uid))) continue;
    const items: FetchResponseItem[] = [];
    // RFC 9051 §6.4.9: UID in every FETCH of a UID command; RFC 7162 §3.2.4: in every FETCH under QRESYNC.
    if (c.uid || isQresync(s)) items.push({ type: 'UID', uid: r.uid });
    if (!c.silent) items.push({ type: 'FLAGS', flags });
    if (condstore) items.push({ type: 'MODSEQ', modseq: view.modseqOf(r.uid) });
    await s.send({ type: 'FETCH', seq: r.seq, items });
  }
  if (o.failed.length > 0) {
    return { code: codes.modified(o.failed.map((r) => (c.uid ? r.uid : r.seq))), text: 'Conditional STORE failed' };
  }
}

/**
 * One new mod-sequence for `touched` (sync.ts settleOwnWrite, which records the write's states), or, when nothing
 * changed but a store moved its Email state anyway (an update that changes nothing may count as one somewhere),
 * the states alone (passOwnWrite), so the next sync gives those messages no mod-sequence for it.
 */
async function settle(s: Session, touched: number[], states: WriteStates | null): Promise<void> {
  const view = s.selected!;
  const { uidStore } = s.config;
  const accountKey = s.account!.accountKey;
  if (touched.length === 0) {
    if (states && states.oldState !== states.newState) await passOwnWrite(uidStore, accountKey, view.mailboxId, states, view);
    return;
  }
  const modseq = await settleOwnWrite(uidStore, accountKey, view.mailboxId, touched, states, view);
  view.setModseqs(new Map(touched.map((u) => [u, modseq] as const)), modseq);
  await guardHighestModseq(s); // RFC 7162 §3.2: MODSEQ data below an unreported expunge's needs HIGHESTMODSEQ
}

/** The keywords to add and remove, and those after, for a message with keywords `cur` (all lower case). */
function planKeywords(cur: readonly string[], action: Store['action'], want: readonly string[]): { add: string[]; remove: string[]; after: string[] } {
  const has = new Set(cur);
  const add = action === 'remove' ? [] : want.filter((k) => !has.has(k));
  const remove = action === 'add' ? []
    : action === 'remove' ? want.filter((k) => has.has(k))
    : cur.filter((k) => !want.includes(k));
  return { add, remove, after: [...cur.filter((k) => !remove.includes(k)), ...add] };
}

/** The UIDs among `refs` whose gateway-kept `\Deleted` (DESIGN.md rule 6) this STORE changes. */
function deletedFlips(s: Session, c: Store, want: FlagArgs, refs: MessageRef[]): number[] {
  const deleted = s.selected!.deleted;
  const after = (uid: number): boolean =>
    c.action === 'replace' ? want.deleted : want.deleted ? c.action === 'add' : deleted.has(uid);
  return refs.map((r) => r.uid).filter((u) => after(u) !== deleted.has(u));
}

/** `flip` split into the UIDs that gain `\Deleted` and those that lose it. */
function splitFlips(s: Session, flip: number[]): { on: number[]; off: number[] } {
  const deleted = s.selected!.deleted;
  return { on: flip.filter((u) => !deleted.has(u)), off: flip.filter((u) => deleted.has(u)) };
}

/** Set `\Deleted` on `on` and clear it on `off` in the UID store (swap them to undo). */
async function markDeleted(s: Session, on: number[], off: number[]): Promise<void> {
  const view = s.selected!;
  const key = s.account!.accountKey;
  await s.config.uidStore.setDeleted(key, view.mailboxId, on, true);
  await s.config.uidStore.setDeleted(key, view.mailboxId, off, false);
}

/** The view follows what markDeleted wrote. */
function noteDeleted(s: Session, on: number[], off: number[]): void {
  const deleted = s.selected!.deleted;
  for (const u of on) deleted.add(u);
  for (const u of off) deleted.delete(u);
}

/**
 * Whether the mailbox's rights (RFC 8621 §2 myRights) allow every change the command could make, whatever the
 * messages' current flags: then it may be written without reading them first.
 */
function rightsCoverAll(rights: MailboxRights, c: Store, want: FlagArgs, flipsDeleted: boolean): boolean {
  if (flipsDeleted && !rights.mayRemoveItems) return false;
  if (c.action === 'replace') return rights.maySetSeen && rights.maySetKeywords; // any keyword may go
  return want.keywords.every((k) => (k === '$seen' ? rights.maySetSeen : rights.maySetKeywords));
}

/** JMAP `myRights` (RFC 8621 §2): `$seen` needs maySetSeen, other keywords maySetKeywords, `\Deleted` mayRemoveItems. */
function checkRights(s: Session, changes: KeywordChange[], touchesDeleted: boolean): void {
  const rights = s.selected!.mailbox.info.myRights;
  const touched = changes.flatMap((c) => [...c.add, ...c.remove]);
  const deny = (what: string) => ImapError.no(`Permission denied to change ${what}`, 'NOPERM');
  if (!rights.maySetSeen && touched.includes('$seen')) throw deny('\\Seen');
  if (!rights.maySetKeywords && touched.some((k) => k !== '$seen')) throw deny('flags');
  if (!rights.mayRemoveItems && touchesDeleted) throw deny('\\Deleted');
}
