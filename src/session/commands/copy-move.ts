/**
 * COPY / UID COPY (RFC 9051 §6.4.7) and MOVE / UID MOVE (RFC 6851, RFC 9051 §6.4.8), with COPYUID (RFC 4315 §3).
 *
 * JMAP has label semantics (RFC 8621 §4.1.1 `mailboxIds`): an email not yet in the destination is copied by
 * adding the destination to its `mailboxIds`, and moved by adding the destination and removing the source in the
 * same patch (one atomic `Email/set` update per email, DESIGN.md rule 6).
 *
 * An email already in the destination cannot be labelled into it a second time, yet an IMAP COPY must make a new
 * message there, with a new UID (§6.4.7 copies "to the end of" the destination; Dovecot does the same when copying
 * a message into the mailbox it is in). So COPY imports the email's blob again (`Email/import` of its `blobId`,
 * no download), with its keywords and receivedAt: a second, real email. MOVE to the mailbox the message is in
 * (allowed by RFC 6851 §3.3 whenever COPY there is) does the same, then expunges the original. MOVE of an email
 * that is already (also) in another destination only removes the source label: the user keeps one message in the
 * destination rather than two identical ones, and COPYUID names the UID it already has there.
 *
 * Copy semantics (a per-tenant setting, session/policy.ts): `label` (default) as above; `copy` makes every COPY an
 * import of the blob into the destination, a new email independent of its source (for stores whose users expect
 * a copy not to share keywords with its original). MOVE is the same in both.
 *
 * OBJECTID (RFC 8474 §5.1): a label copy is the same JMAP email, so the same EMAILID; an imported copy records its
 * source's EMAILID/THREADID in the UID store before COPYUID is sent (session/objectid.ts).
 *
 * All-or-nothing (RFC 9051 §6.4.7, DESIGN.md rule 10): if any write fails, the earlier ones are undone and the
 * answer is NO. `\Deleted` (kept by the gateway) is carried to the copies, as flags are (§6.4.7).
 *
 * Round trips: `Mailbox/get` (destination), `Email/get` (mailboxIds, keywords, blobId), one `Email/set` request;
 * plus one `Email/import` when some emails are already in the destination (or with copy semantics), and a listing
 * the first time a destination is used (see target.ts). An import also writes the copies' origins to the UID store
 * (no JMAP request); an import whose outcome is unknown is read back first (MailBackend.importBlobs).
 */
import type { BlobImport, EmailMeta, WriteStates } from '../../backend/backend.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { leaveMailbox } from '../expunge.ts';
import type { Session } from '../session.ts';
import type { MessageRef } from '../view.ts';
import { openTarget, targetMailbox } from './target.ts';
import { recordCopies } from '../objectid.ts';
import { copySemantics } from '../policy.ts';
import { accountOf } from '../shared-accounts.ts';
import { copyAcross } from './copy-across.ts';
import { settleCopy } from './copy-settle.ts';

/** How one message reaches the destination. */
type Plan = 'label' | 'import' | 'already';

export async function copyMoveCommand(s: Session, c: CommandOf<'COPY' | 'MOVE'>): Promise<HandlerResult> {
  const view = s.selected!;
  const move = c.type === 'MOVE';
  if (move && view.readOnly) throw view.readOnlyError();
  const refs = view.resolve(c.sequence, c.uid);
  const target = await targetMailbox(s, c.mailbox);
  if (move && !view.mailbox.info.myRights.mayRemoveItems) throw ImapError.no('Permission denied to remove messages', 'NOPERM');
  if (refs.length === 0) return { text: `No matching messages, so nothing ${move ? 'moved' : 'copied'}` };
  // Into another JMAP account (own <-> shared, shared-accounts.ts): download, upload and import (copy-across.ts).
  if (accountOf(s, target).accountKey !== s.account!.accountKey) return copyAcross(s, move, view, refs, target);

  const account = s.account!;
  const backend = account.backend;
  const source = view.mailboxId;
  const dest = target.info.id;
  const byId = new Map((await backend.getEmails(refs.map((r) => r.emailId))).map((m) => [m.id, m] as const));
  if (refs.some((r) => !byId.has(r.emailId))) throw ImapError.no('Some of the messages no longer exist', 'EXPUNGEISSUED');
  const uidValidity = await openTarget(s, dest);

  const copyAll = !move && copySemantics(s) === 'copy';
  const plans = refs.map((r): [MessageRef, EmailMeta, Plan] => {
    const meta = byId.get(r.emailId)!;
    const plan: Plan = copyAll ? 'import' : !meta.mailboxIds.includes(dest) ? 'label' : move && dest !== source ? 'already' : 'import';
    return [r, meta, plan];
  });
  const sources = plans.filter(([, , p]) => p === 'import').map(([, m]) => m);
  const imports = sources.map((m): BlobImport => ({ blobId: m.blobId, mailboxIds: [dest], keywords: m.keywords, receivedAt: m.receivedAt }));
  const known = async () => new Set((await s.config.uidStore.list(account.accountKey, dest)).map((e) => e.emailId));
  const created = await backend.importBlobs(imports, { known });
  let written: WriteStates | null = null;
  try {
    await recordCopies(s, sources, created); // RFC 8474 §5.1: the copies keep their sources' EMAILID
    const states = await backend.updateMailboxes(plans.filter(([, , p]) => p !== 'import' && (p === 'label' || move)).map(([, m, p]) =>
      ({ id: m.id, add: p === 'label' ? [dest] : [], remove: move ? [source] : [] })));
    // The mailboxIds patch as the only write: both maps may move past it (sync.ts passOwnWrite, no second MODSEQ).
    if (sources.length === 0) written = states;
    // MOVE within one mailbox: the originals leave it (a destroy when it was their only mailbox: last, as it cannot be undone).
    if (move) await leaveMailbox(backend, source, plans.filter(([, , p]) => p === 'import').map(([, m]) => m));
  } catch (err) {
    await backend.destroyEmails(created).catch(() => undefined);
    throw err;
  }

  let n = 0;
  return settleCopy(s, view, move, {
    destKey: account.accountKey, dest, uidValidity, sameMailbox: dest === source, states: written,
    copies: plans.map(([r, m, p]) => ({ uid: r.uid, emailId: p === 'import' ? created[n++]! : m.id, carryDeleted: p !== 'already' })),
  });
}
