/**
 * The last part of every COPY / MOVE (copy-move.ts within one account, copy-across.ts between accounts), once the
 * JMAP writes are done: the UID store and the IMAP answer.
 */
import { formatSequence } from '../../protocol/sequence.ts';
import type { HandlerResult } from '../dispatch.ts';
import { expungedHighest } from '../qresync.ts';
import type { Session } from '../session.ts';
import type { MailboxView } from '../view.ts';
import type { WriteStates } from '../../backend/backend.ts';
import { assignOwn, expungeOwn, passOwnWrite } from '../sync.ts';

/** The destination side of a COPY/MOVE whose JMAP writes are done. */
export interface SettledCopy {
  destKey: string;
  dest: string;
  uidValidity: number;
  /** The destination is the selected mailbox itself (its view then shows the new messages). */
  sameMailbox: boolean;
  /** Source UID, destination email id, and whether the source's \Deleted goes along (not for an email already there). */
  copies: Array<{ uid: number; emailId: string; carryDeleted: boolean }>;
  /** RFC 8620 §5.3 states of the JMAP write when it was one `mailboxIds` patch of exactly these emails (sync.ts passOwnWrite). */
  states?: WriteStates | null;
}

/**
 * After the JMAP writes of a COPY/MOVE (same account or across, copy-across.ts): UIDs in the destination, `\Deleted`
 * carried (gateway-owned), COPYUID (RFC 4315 §3); for MOVE the COPYUID goes in an untagged OK before the source's
 * expunges (RFC 6851 §4.3) and [HIGHESTMODSEQ] ends it under QRESYNC (RFC 6851 §4.4).
 */
export async function settleCopy(s: Session, view: MailboxView, move: boolean, c: SettledCopy): Promise<HandlerResult> {
  const { uidStore } = s.config;
  const assigned = await assignOwn(uidStore, c.destKey, c.dest, c.copies.map((x) => x.emailId)); // keeps the cached map
  const srcUids = c.copies.map((x) => x.uid);
  const destUids = c.copies.map((x) => assigned.get(x.emailId)!);
  const carried = c.copies.flatMap((x, i) => (x.carryDeleted && view.deleted.has(x.uid) ? [destUids[i]!] : []));
  await uidStore.setDeleted(c.destKey, c.dest, carried, true);
  const states = c.states ?? null;
  if (!c.sameMailbox) await passOwnWrite(uidStore, c.destKey, c.dest, states); // every written email is assigned there
  const copyUid = { name: 'COPYUID', data: `${c.uidValidity} ${formatSequence(srcUids)} ${formatSequence(destUids)}` };

  if (!move) {
    if (c.sameMailbox) await view.refresh(s); // the copies are new messages of this mailbox: EXISTS (RFC 9051 §7.4.1)
    else await passOwnWrite(uidStore, s.account!.accountKey, view.mailboxId, states, view); // their flags did not change
    return { code: copyUid, text: 'COPY completed' };
  }
  await s.send({ type: 'status', status: 'OK', code: copyUid, text: 'Moved' });
  const sourceKey = s.account!.accountKey;
  await expungeOwn(uidStore, sourceKey, view.mailboxId, srcUids); // keeps the cached map (sync.ts)
  await view.remove(s, new Set(srcUids), true);
  if (!c.sameMailbox) await passOwnWrite(uidStore, sourceKey, view.mailboxId, states, view); // expunged here
  if (c.sameMailbox) await view.refresh(s);
  const code = await expungedHighest(s, srcUids.length);
  return code ? { code, text: 'MOVE completed' } : { text: 'MOVE completed' };
}
