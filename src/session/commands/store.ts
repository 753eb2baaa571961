/**
 * STORE / UID STORE (RFC 9051 §6.4.6, §6.4.9): FLAGS, +FLAGS, -FLAGS and their .SILENT forms, and the CONDSTORE
 * modifier UNCHANGEDSINCE (RFC 7162 §3.1.3).
 *
 * Keywords live in JMAP (one `Email/set` keywords patch per message, all-or-nothing: JmapBackend.updateKeywords);
 * `\Deleted` lives in the UID store (DESIGN.md rule 6). The resulting flags are computed from the keywords read
 * just before the patch, so the untagged FETCH shows what the message now has. Messages whose flags really
 * changed get one new mod-sequence (UidStore.touch); setting a flag already set changes nothing (RFC 7162 §3.1).
 * Under CONDSTORE a .SILENT STORE still answers `FETCH (MODSEQ)` for the messages it changed (RFC 7162 Example 14,
 * §6 example A151; Dovecot does). The view remembers the flags the client now knows, so the next catch-up does not
 * report this session's own change again (view.ts `shown`).
 *
 * UNCHANGEDSINCE: the current mod-sequences are read through a UID-map sync (so a keyword change made directly in
 * JMAP counts), messages above the value are left alone and reported in `[MODIFIED set]`, and the patch carries
 * JMAP `ifInState` = the state that sync saw: a change racing in between makes JMAP refuse (`stateMismatch`,
 * nothing written) and the whole check runs again, up to CONDITIONAL_ATTEMPTS times.
 *
 * Round trips: one `Email/get` (current keywords) plus, when anything changes, one request of `Email/get` +
 * `Email/set` (and one more to revert on a partial failure). UNCHANGEDSINCE adds one `Email/changes` (plus an
 * `Email/get` of changed ids) per attempt.
 */
import { isStateMismatch } from '../../backend/backend.ts';
import { codes } from '../../protocol/encode.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, FetchResponseItem } from '../../protocol/types.ts';
import { enableCondstore, freshModseqs, guardHighestModseq, isCondstore, isQresync } from '../condstore.ts';
import type { HandlerResult } from '../dispatch.ts';
import { parseFlagArgs } from '../flag-args.ts';
import type { Session } from '../session.ts';
import { flagsKey, type MessageRef } from '../view.ts';
import { settleOwnWrite } from '../sync.ts';

type Change = { id: string; add: string[]; remove: string[] };

/** Attempts of a conditional STORE whose `ifInState` lost a race with another JMAP writer. */
const CONDITIONAL_ATTEMPTS = 5;

export async function storeCommand(s: Session, c: CommandOf<'STORE'>): Promise<HandlerResult> {
  const view = s.selected!;
  if (view.readOnly) throw view.readOnlyError();
  if (c.unchangedSince !== undefined) await enableCondstore(s); // RFC 7162 §3.1: an enabling command
  const refs = view.resolve(c.sequence, c.uid);
  if (refs.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    try {
      return await storeOnce(s, c, refs);
    } catch (err) {
      if (c.unchangedSince === undefined || !isStateMismatch(err) || attempt >= CONDITIONAL_ATTEMPTS) throw err;
    }
  }
}

async function storeOnce(s: Session, c: CommandOf<'STORE'>, refs: MessageRef[]): Promise<HandlerResult> {
  const want = parseFlagArgs(c.flags);
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
  const changes: Change[] = [];
  for (const r of live) {
    const cur = metas.get(r.emailId)!.keywords.map((k) => k.toLowerCase());
    before.set(r.uid, flagsKey(view.flagsOf(r.uid, cur)));
    const has = new Set(cur);
    const add = c.action === 'remove' ? [] : want.keywords.filter((k) => !has.has(k));
    const remove = c.action === 'add' ? []
      : c.action === 'remove' ? want.keywords.filter((k) => has.has(k))
      : cur.filter((k) => !want.keywords.includes(k));
    after.set(r.uid, [...cur.filter((k) => !remove.includes(k)), ...add]);
    changes.push({ id: r.emailId, add, remove });
  }
  const deletedAfter = (uid: number): boolean =>
    c.action === 'replace' ? want.deleted : want.deleted ? c.action === 'add' : view.deleted.has(uid);
  const flip = live.map((r) => r.uid).filter((u) => deletedAfter(u) !== view.deleted.has(u));
  const on = flip.filter((u) => !view.deleted.has(u));
  const off = flip.filter((u) => view.deleted.has(u));
  checkRights(s, changes, flip.length > 0);
  const { uidStore } = s.config;
  // `\Deleted` first: local and revertible, so a refused keyword patch leaves nothing changed.
  await uidStore.setDeleted(account.accountKey, view.mailboxId, on, true);
  await uidStore.setDeleted(account.accountKey, view.mailboxId, off, false);
  let states;
  try {
    states = await account.backend.updateKeywords(changes, ifInState !== undefined ? { ifInState } : {});
  } catch (err) {
    await uidStore.setDeleted(account.accountKey, view.mailboxId, on, false);
    await uidStore.setDeleted(account.accountKey, view.mailboxId, off, true);
    throw err;
  }
  for (const u of on) view.deleted.add(u);
  for (const u of off) view.deleted.delete(u);

  // RFC 7162 §3.1: one new mod-sequence for the messages whose flags really changed, and only one: every email the
  // patch wrote is among them, so the map may move past the write (sync.ts settleOwnWrite).
  const flipped = new Set(flip);
  const changedIds = new Set(changes.filter((ch) => ch.add.length + ch.remove.length > 0).map((ch) => ch.id));
  const touched = live.filter((r) => changedIds.has(r.emailId) || flipped.has(r.uid)).map((r) => r.uid);
  if (touched.length > 0) {
    const modseq = await settleOwnWrite(uidStore, account.accountKey, view.mailboxId, touched, states ?? null, view);
    view.setModseqs(new Map(touched.map((u) => [u, modseq] as const)), modseq);
    await guardHighestModseq(s); // RFC 7162 §3.2: MODSEQ data below an unreported expunge's needs HIGHESTMODSEQ
  }

  const condstore = isCondstore(s);
  const bumped = new Set(touched);
  for (const r of live) {
    const flags = view.flagsOf(r.uid, after.get(r.uid)!);
    // What the client now knows (a later catch-up does not repeat it, view.ts `shown`): the FLAGS sent, or with
    // .SILENT the flags it determined itself (RFC 9051 §6.4.6) from those it was shown, when they were still the
    // message's. Otherwise (never shown, or changed elsewhere since) the catch-up reports them (RFC 9051 §6.4.6 Note).
    if (!c.silent || view.shownKey(r.uid) === before.get(r.uid)) view.noteShown(r.uid, flags);
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
  if (failed.length > 0) {
    return { code: codes.modified(failed.map((r) => (c.uid ? r.uid : r.seq))), text: 'Conditional STORE failed' };
  }
}

/** JMAP `myRights` (RFC 8621 §2): `$seen` needs maySetSeen, other keywords maySetKeywords, `\Deleted` mayRemoveItems. */
function checkRights(s: Session, changes: Change[], touchesDeleted: boolean): void {
  const rights = s.selected!.mailbox.info.myRights;
  const touched = changes.flatMap((c) => [...c.add, ...c.remove]);
  const deny = (what: string) => ImapError.no(`Permission denied to change ${what}`, 'NOPERM');
  if (!rights.maySetSeen && touched.includes('$seen')) throw deny('\\Seen');
  if (!rights.maySetKeywords && touched.some((k) => k !== '$seen')) throw deny('flags');
  if (!rights.mayRemoveItems && touchesDeleted) throw deny('\\Deleted');
}
