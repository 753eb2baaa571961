/**
 * APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502: several messages, all or none) and APPENDUID (RFC 4315 §3).
 *
 * Each message is uploaded as a blob, byte for byte (8-bit and binary content included), then all are created by
 * one `Email/import` request with their keywords and receivedAt (the date-time argument, else now). `\Deleted` goes
 * to the UID store. UIDs are assigned at once, in message order, and persisted before APPENDUID shows them
 * (DESIGN.md rule 1). If any message fails, the ones already created are destroyed and the answer is NO (RFC 3502
 * §3: "all or none").
 *
 * An import whose outcome is unknown (timeout, dropped connection) is read back before it is sent again, so a
 * message is never stored twice (DESIGN.md rule 10; MailBackend.importBlobs, jmap/import-readback.ts).
 *
 * Round trips: `Mailbox/get`, one upload per message, one `Email/import` request (a listing the first time a
 * mailbox is used, see target.ts); when the mailbox is the selected one, the view catches up (`Email/changes` and
 * a listing) so the new messages are announced with `* n EXISTS` (RFC 9051 §6.3.12).
 *
 * A session's next single-message APPEND to the same own mailbox saves the `Mailbox/get`: the tree it resolved the
 * name in is kept with its Mailbox state, and the upload travels as RFC 9404 `Blob/upload` in one request with
 * `Mailbox/changes` since that state. Only if those changes touch no mailbox's name, parent or rights (none, or
 * only the RFC 8621 §2 counters) is the kept resolution used; otherwise the tree is read again (the blob is kept).
 * The import still follows the check, as it follows the `Mailbox/get` otherwise. Over stores without Blob/upload
 * (Cyrus) nothing changes.
 */
import { ImapError } from '../../protocol/errors.ts';
import { formatSequence } from '../../protocol/sequence.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { parseFlagArgs } from '../flag-args.ts';
import type { Session } from '../session.ts';
import { openTarget, targetMailbox } from './target.ts';
import { accountOf, inOtherUsers } from '../shared-accounts.ts';
import { appendLimit } from '../capabilities.ts';
import type { Changes } from '../../backend/backend.ts';
import { buildNamespace, findMailbox, type ImapMailbox } from '../mailboxes.ts';
import { decodeName } from '../names.ts';
import { assignOwn } from '../sync.ts';

/** A session's last APPEND target in its own account, resolved in the tree read at Mailbox `state`. */
interface KeptTarget { name: string; target: ImapMailbox; state: string }
const keptTargets = new WeakMap<Session, KeptTarget>();

/** RFC 8621 §2: server-set counters; a change of only these leaves every name, parent and right as it was. */
const COUNTERS = new Set(['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads']);
type MailboxChanges = Changes & { updatedProperties: string[] | null };
const treeUnchanged = (m: MailboxChanges | null): m is MailboxChanges => m !== null && !m.hasMoreChanges
  && m.created.length === 0 && m.destroyed.length === 0 && m.newState !== ''
  && (m.updated.length === 0 || (m.updatedProperties !== null && m.updatedProperties.every((p) => COUNTERS.has(p))));

export async function appendCommand(s: Session, c: CommandOf<'APPEND'>): Promise<HandlerResult> {
  const flags = c.messages.map((m) => parseFlagArgs(m.flags));
  if (c.messages.some((m) => m.message.length === 0)) throw ImapError.no('An empty message cannot be appended', 'CANNOT');
  const limit = appendLimit(s); // RFC 7889 §2: over APPENDLIMIT is NO [TOOBIG], before any upload
  if (c.messages.some((m) => m.message.length > limit)) throw ImapError.no(`Message is larger than APPENDLIMIT=${limit}`, 'TOOBIG');
  const { target, uploaded } = await resolveTarget(s, c);
  const account = accountOf(s, target); // own or shared account (shared-accounts.ts)
  const backend = account.backend;
  const dest = target.info.id;
  const uidValidity = await openTarget(s, dest, account);
  const { uidStore } = s.config;
  const blobIds = uploaded !== null ? [uploaded]
    : await Promise.all(c.messages.map((m) => uploadOnceMore(() => backend.uploadBlob(m.message))));
  const known = async () => new Set((await uidStore.list(account.accountKey, dest)).map((e) => e.emailId));
  const ids = await backend.importBlobs(c.messages.map((m, i) => ({
    blobId: blobIds[i]!, mailboxIds: [dest], keywords: flags[i]!.keywords, receivedAt: utcDate(m.date ?? new Date()),
  })), { known });
  const assigned = await assignOwn(uidStore, account.accountKey, dest, ids); // keeps the cached map (sync.ts)
  const uids = ids.map((id) => assigned.get(id)!);
  await uidStore.setDeleted(account.accountKey, dest, uids.filter((_, i) => flags[i]!.deleted), true);
  const view = s.selected;
  if (view && view.mailboxId === dest && s.account === account) {
    await view.refresh(s);
    for (const u of uids.filter((_, i) => flags[i]!.deleted)) view.deleted.add(u);
  }
  return { code: { name: 'APPENDUID', data: `${uidValidity} ${formatSequence(uids)}` }, text: 'APPEND completed' };
}

/**
 * The destination (target.ts rules: NO [TRYCREATE] when missing, NO [NOPERM] without `mayAddItems`), and the blob
 * when it was uploaded together with the check of the session's kept tree (see the header).
 */
async function resolveTarget(s: Session, c: CommandOf<'APPEND'>): Promise<{ target: ImapMailbox; uploaded: string | null }> {
  const name = decodeName(s, c.mailbox);
  const home = s.home;
  if (c.messages.length !== 1 || !home || inOtherUsers(s, name)) return { target: await targetMailbox(s, c.mailbox), uploaded: null };
  const kept = keptTargets.get(s);
  let uploaded: string | null = null;
  if (kept && kept.name === name && home.backend.uploadCheckingMailboxes) {
    const raw = c.messages[0]!.message;
    const r = await uploadOnceMore(async () => (await home.backend.uploadCheckingMailboxes!(raw, kept.state)) ?? { blobId: '', mailbox: null });
    if (r.blobId !== '') uploaded = r.blobId;
    if (treeUnchanged(r.mailbox)) {
      kept.state = r.mailbox.newState;
      if (uploaded !== null) return { target: kept.target, uploaded };
    }
  }
  keptTargets.delete(s);
  const { state, mailboxes } = await home.backend.listMailboxes();
  const target = findMailbox(buildNamespace(mailboxes), name);
  if (!target) throw ImapError.no(`Mailbox does not exist: ${name}`, 'TRYCREATE');
  if (!target.info.myRights.mayAddItems) throw ImapError.no(`Permission denied to add messages to ${name}`, 'NOPERM');
  if (state !== '') keptTargets.set(s, { name, target, state });
  return { target, uploaded };
}

/**
 * An upload whose outcome is unknown (timeout, dropped connection: NO [UNAVAILABLE]) is sent once more: a blob
 * stored twice is only an unreferenced blob (RFC 8620 §6: the store cleans those up), never a second message.
 */
async function uploadOnceMore<T>(upload: () => Promise<T>): Promise<T> {
  try {
    return await upload();
  } catch (err) {
    if (!(err instanceof ImapError) || err.code?.name !== 'UNAVAILABLE') throw err;
    return upload();
  }
}

/** RFC 8620 §1.4 UTCDate: `YYYY-MM-DDTHH:MM:SSZ` (IMAP date-times have whole seconds). */
function utcDate(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
