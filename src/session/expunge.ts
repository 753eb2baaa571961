/**
 * Removing `\Deleted` messages from the selected mailbox (RFC 9051 §6.4.3 EXPUNGE, §6.4.1 CLOSE, RFC 4315
 * UID EXPUNGE). JMAP has no `\Deleted` (DESIGN.md rule 6): the message leaves this mailbox (its id drops the
 * mailbox from `mailboxIds`), or is destroyed when this was its only mailbox. The UID store forgets the UIDs only
 * after the store accepted the change, so a failure loses nothing and reports NO.
 *
 * Round trips: one `Email/get` (mailboxIds), one `Email/set` update (with its `Email/get`), one `Email/set` destroy.
 */
import type { EmailMeta, MailBackend, WriteStates } from '../backend/backend.ts';
import type { Session } from './session.ts';
import type { MailboxView } from './view.ts';
import { expungeOwn, passOwnExpunge, passOwnWrite } from './sync.ts';
import { lowerBound } from '../protocol/sequence.ts';

/**
 * Expunge the `\Deleted` messages (only those in `uids` when given). With `report`, send `* n EXPUNGE` for each,
 * in ascending order (view.remove). Returns the expunged UIDs.
 */
export async function expungeDeleted(s: Session, view: MailboxView, uids: Set<number> | null, report: boolean): Promise<number[]> {
  const account = s.account!;
  // RFC 9051 §6.4.3: every message with \Deleted goes, whichever session set it (the flag lives in the UID store).
  // The view's own set stays as the client knows it: the next catch-up reports other sessions' changes to the
  // messages that stay (view.ts deletedFlips, RFC 9051 §7.5.2).
  const deletedNow = await s.config.uidStore.getDeleted(account.accountKey, view.mailboxId);
  const victims: Array<{ uid: number; emailId: string }> = [];
  const marked = [...deletedNow].filter((u) => uids === null || uids.has(u)).sort((a, b) => a - b);
  for (const uid of marked) {
    const i = lowerBound(view.uids, uid);
    if (view.uids[i] === uid) victims.push({ uid, emailId: view.emailIds[i]! });
  }
  if (victims.length === 0) return [];
  const metas = await account.backend.getEmails(victims.map((v) => v.emailId));
  const states = await leaveMailbox(account.backend, view.mailboxId, metas);
  const gone = victims.map((v) => v.uid);
  const { uidStore } = s.config;
  await expungeOwn(uidStore, account.accountKey, view.mailboxId, gone); // keeps the cached map (sync.ts)
  await view.remove(s, new Set(gone), report);
  // Every email the write changed was a victim, now expunged here: the map may move past the write, so other
  // sessions' catch-ups commit nothing for it; a view that reported the expunge moves too when that is provable
  // (sync.ts passOwnExpunge), else its next catch-up adopts the map and the HIGHESTMODSEQ that covers this expunge
  // (qresync.ts expungedHighest, RFC 7162 §3.2.7).
  if (report) await passOwnExpunge(uidStore, account.accountKey, view.mailboxId, states, view);
  else await passOwnWrite(uidStore, account.accountKey, view.mailboxId, states);
  return gone;
}

/**
 * Take emails out of one mailbox (DESIGN.md rule 6): a `mailboxIds` patch for those also in another mailbox, a
 * destroy for those only here (an Email must be in a mailbox, RFC 8621 §4.1.1). The patch goes first because it
 * can be undone: if the destroy fails, the patch is reverted and the error thrown (DESIGN.md rule 10).
 * Returns the Email states around the whole write when both parts chained (WriteStates), else null.
 */
export async function leaveMailbox(backend: MailBackend, mailboxId: string, metas: EmailMeta[]): Promise<WriteStates | null> {
  const elsewhere = metas.filter((m) => m.mailboxIds.some((id) => id !== mailboxId)).map((m) => m.id);
  const onlyHere = metas.filter((m) => !m.mailboxIds.some((id) => id !== mailboxId)).map((m) => m.id);
  const moved = await backend.updateMailboxes(elsewhere.map((id) => ({ id, add: [], remove: [mailboxId] })));
  try {
    const destroyed = await backend.destroyEmails(onlyHere);
    if (elsewhere.length === 0) return destroyed;
    if (onlyHere.length === 0) return moved;
    return moved && destroyed && moved.newState === destroyed.oldState ? { oldState: moved.oldState, newState: destroyed.newState } : null;
  } catch (err) {
    await backend.updateMailboxes(elsewhere.map((id) => ({ id, add: [mailboxId], remove: [] }))).catch(() => undefined);
    throw err;
  }
}
