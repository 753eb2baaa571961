/**
 * COPY / MOVE (RFC 9051 §6.4.7, RFC 6851) between two JMAP accounts: the user's own and one shared with the user
 * (shared-accounts.ts), or two shared ones. JMAP ids (emails, blobs, mailboxes) are per account (RFC 8620 §1.6),
 * so a label or an `Email/import` of the source's blobId cannot reach the other account: each message is
 * downloaded from the source account, uploaded to the destination account and created there by one
 * `Email/import` with its keywords and receivedAt (RFC 8621 §4.8). The copies are new emails (new EMAILIDs).
 *
 * All-or-nothing (RFC 9051 §6.4.7, DESIGN.md rule 10): `importBlobs` creates all or none (an unknown outcome is
 * read back first); a MOVE then takes the originals out of the source mailbox, and if that fails the copies are
 * destroyed and the answer is NO. UIDs of the copies come from the destination account's UID map (its own key).
 *
 * Round trips: `Email/get` (source), one download and one upload per message, one `Email/import`, plus for MOVE
 * what the source mailbox's expunge costs (expunge.ts leaveMailbox), and a listing the first time a destination is
 * used (target.ts).
 */
import type { BlobImport } from '../../backend/backend.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { HandlerResult } from '../dispatch.ts';
import { leaveMailbox } from '../expunge.ts';
import type { ImapMailbox } from '../mailboxes.ts';
import type { Session } from '../session.ts';
import { accountOf } from '../shared-accounts.ts';
import type { MailboxView, MessageRef } from '../view.ts';
import { openTarget } from './target.ts';
import { settleCopy } from './copy-settle.ts';

/** Copies (or moves) `refs` of the selected `view` into `target`, which lives in another account. */
export async function copyAcross(s: Session, move: boolean, view: MailboxView, refs: MessageRef[], target: ImapMailbox): Promise<HandlerResult> {
  const from = s.account!;
  const to = accountOf(s, target);
  const source = view.mailboxId;
  const dest = target.info.id;
  const byId = new Map((await from.backend.getEmails(refs.map((r) => r.emailId))).map((m) => [m.id, m] as const));
  if (refs.some((r) => !byId.has(r.emailId))) throw ImapError.no('Some of the messages no longer exist', 'EXPUNGEISSUED');
  const metas = refs.map((r) => byId.get(r.emailId)!);
  const uidValidity = await openTarget(s, dest, to);
  const blobIds: string[] = [];
  for (const m of metas) blobIds.push(await to.backend.uploadBlob(await from.backend.downloadBlob(m.blobId)));
  const imports = metas.map((m, i): BlobImport => ({ blobId: blobIds[i]!, mailboxIds: [dest], keywords: m.keywords, receivedAt: m.receivedAt }));
  const { uidStore } = s.config;
  const known = async () => new Set((await uidStore.list(to.accountKey, dest)).map((e) => e.emailId));
  const created = await to.backend.importBlobs(imports, { known });
  if (move) {
    try {
      await leaveMailbox(from.backend, source, metas);
    } catch (err) {
      await to.backend.destroyEmails(created).catch(() => undefined);
      throw err;
    }
  }
  return settleCopy(s, view, move, {
    destKey: to.accountKey, dest, uidValidity, sameMailbox: false,
    copies: refs.map((r, i) => ({ uid: r.uid, emailId: created[i]!, carryDeleted: true })),
  });
}
