/**
 * Removing `\Deleted` messages from the selected mailbox (RFC 9051 §6.4.3 EXPUNGE, §6.4.1 CLOSE, RFC 4315
 * UID EXPUNGE). JMAP has no `\Deleted` (DESIGN.md rule 6): the message leaves this mailbox (its id drops the
 * mailbox from `mailboxIds`), or is destroyed when this was its only mailbox. The UID store forgets the UIDs only
 * after the store accepted the change, so a failure loses nothing and reports NO.
 */
import type { Session } from './session.ts';
import type { MailboxView } from './view.ts';

/**
 * Expunge the `\Deleted` messages (only those in `uids` when given). With `report`, send `* n EXPUNGE` for each,
 * highest sequence number first so every number sent is valid when the client reads it.
 */
export async function expungeDeleted(s: Session, view: MailboxView, uids: Set<number> | null, report: boolean): Promise<number[]> {
  const account = s.account!;
  const victims: Array<{ seq: number; uid: number; emailId: string }> = [];
  view.uids.forEach((uid, i) => {
    if (view.deleted.has(uid) && (uids === null || uids.has(uid))) victims.push({ seq: i + 1, uid, emailId: view.emailIds[i]! });
  });
  if (victims.length === 0) return [];
  const metas = await account.backend.getEmails(victims.map((v) => v.emailId));
  const elsewhere = metas.filter((m) => m.mailboxIds.some((id) => id !== view.mailboxId)).map((m) => m.id);
  const onlyHere = metas.filter((m) => !m.mailboxIds.some((id) => id !== view.mailboxId)).map((m) => m.id);
  if (elsewhere.length > 0) await account.backend.updateMailboxes(elsewhere.map((id) => ({ id, add: [], remove: [view.mailboxId] })));
  if (onlyHere.length > 0) await account.backend.destroyEmails(onlyHere);
  const gone = victims.map((v) => v.uid);
  await s.config.uidStore.expunge(account.accountKey, view.mailboxId, gone);
  await s.config.uidStore.setDeleted(account.accountKey, view.mailboxId, gone, false);
  for (const v of [...victims].reverse()) {
    if (report) await s.send({ type: 'EXPUNGE', seq: v.seq });
    const i = v.seq - 1;
    view.uids.splice(i, 1);
    view.emailIds.splice(i, 1);
    view.deleted.delete(v.uid);
  }
  return gone;
}
