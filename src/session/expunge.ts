/**
 * Removing `\Deleted` messages from the selected mailbox (RFC 9051 §6.4.3 EXPUNGE, §6.4.1 CLOSE, RFC 4315
 * UID EXPUNGE). JMAP has no `\Deleted` (DESIGN.md rule 6): the message leaves this mailbox (its id drops the
 * mailbox from `mailboxIds`), or is destroyed when this was its only mailbox. The UID store forgets the UIDs only
 * after the store accepted the change, so a failure loses nothing and reports NO.
 *
 * Round trips: one `Email/get` (mailboxIds), one `Email/set` update (with its `Email/get`), one `Email/set` destroy.
 */
import type { EmailMeta, MailBackend } from '../backend/backend.ts';
import type { Session } from './session.ts';
import type { MailboxView } from './view.ts';

/**
 * Expunge the `\Deleted` messages (only those in `uids` when given). With `report`, send `* n EXPUNGE` for each,
 * in ascending order (view.remove). Returns the expunged UIDs.
 */
export async function expungeDeleted(s: Session, view: MailboxView, uids: Set<number> | null, report: boolean): Promise<number[]> {
  const account = s.account!;
  // RFC 9051 §6.4.3: every message with \Deleted goes, whichever session set it (the flag lives in the UID store).
  view.deleted = await s.config.uidStore.getDeleted(account.accountKey, view.mailboxId);
  const victims: Array<{ uid: number; emailId: string }> = [];
  view.uids.forEach((uid, i) => {
    if (view.deleted.has(uid) && (uids === null || uids.has(uid))) victims.push({ uid, emailId: view.emailIds[i]! });
  });
  if (victims.length === 0) return [];
  await leaveMailbox(account.backend, view.mailboxId, await account.backend.getEmails(victims.map((v) => v.emailId)));
  const gone = victims.map((v) => v.uid);
  await s.config.uidStore.expunge(account.accountKey, view.mailboxId, gone);
  await s.config.uidStore.setDeleted(account.accountKey, view.mailboxId, gone, false);
  await view.remove(s, new Set(gone), report);
  return gone;
}

/**
 * Take emails out of one mailbox (DESIGN.md rule 6): a `mailboxIds` patch for those also in another mailbox, a
 * destroy for those only here (an Email must be in a mailbox, RFC 8621 §4.1.1). The patch goes first because it
 * can be undone: if the destroy fails, the patch is reverted and the error thrown (DESIGN.md rule 10).
 */
export async function leaveMailbox(backend: MailBackend, mailboxId: string, metas: EmailMeta[]): Promise<void> {
  const elsewhere = metas.filter((m) => m.mailboxIds.some((id) => id !== mailboxId)).map((m) => m.id);
  const onlyHere = metas.filter((m) => !m.mailboxIds.some((id) => id !== mailboxId)).map((m) => m.id);
  await backend.updateMailboxes(elsewhere.map((id) => ({ id, add: [], remove: [mailboxId] })));
  try {
    await backend.destroyEmails(onlyHere);
  } catch (err) {
    await backend.updateMailboxes(elsewhere.map((id) => ({ id, add: [mailboxId], remove: [] }))).catch(() => undefined);
    throw err;
  }
}
