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
 * message is never stored twice (DESIGN.md rule 10; MailBackend.importBlobs / importInOne, jmap/import-readback.ts).
 *
 * Round trips. One message to an own mailbox whose name the account's kept tree resolves (tree-cache.ts: kept by
 * any tree read of the process, LIST, SELECT, an earlier APPEND), whose UID map is open, on a store with RFC 9404
 * `Blob/upload`: ONE request (MailBackend.importInOne): `Mailbox/changes` since the kept tree's state and
 * `Mailbox/get` of the mailbox (the tree still valid? SELECT's rules), the upload, and the `Email/import` of it.
 * When the tree changed, it is read again: the import stays if the name still names that mailbox with
 * `mayAddItems`, else it is destroyed (no UID was assigned, no client saw it) and the message goes where the name
 * points now (the blob is kept), or NO [TRYCREATE] / [NOPERM]. Otherwise (several messages, Cyrus without
 * Blob/upload, no kept tree): `Mailbox/get`, one upload per message, one `Email/import` request (a listing the
 * first time a mailbox is used, see target.ts).
 *
 * The import's own states (RFC 8621 §4.8 `oldState`/`newState`) are adopted (sync.ts assignOwn): when the UID map
 * records `oldState`, it moves to `newState` with the new UID, so no later sync reads the import back or gives it a
 * second mod-sequence (RFC 7162 §3.1). When the mailbox is the selected one and its view was at `oldState`, the new
 * message joins the view at once with `* n EXISTS` (RFC 9051 §6.3.12, §7.4.1); otherwise, or when anything else
 * changed, the view catches up (`Email/changes` and an `Email/get`), which also reports other sessions' changes.
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
import type { WriteStates } from '../../backend/backend.ts';
import { findMailbox, type ImapMailbox } from '../mailboxes.ts';
import { decodeName, mailboxTree } from '../names.ts';
import { noteKeywords } from '../known-keywords.ts';
import { assignOwn, type OwnImport } from '../sync.ts';
import { confirmKept, keptTarget } from '../tree-cache.ts';

type Flags = ReturnType<typeof parseFlagArgs>;

/** A message already imported by the one-request path (its mailbox, UIDVALIDITY, email id and import states). */
interface ImportedOne { target: ImapMailbox; uidValidity: number; emailId: string; states: WriteStates | null }

export async function appendCommand(s: Session, c: CommandOf<'APPEND'>): Promise<HandlerResult> {
  const flags = c.messages.map((m) => parseFlagArgs(m.flags));
  if (c.messages.some((m) => m.message.length === 0)) throw ImapError.no('An empty message cannot be appended', 'CANNOT');
  const limit = appendLimit(s); // RFC 7889 §2: over APPENDLIMIT is NO [TOOBIG], before any upload
  if (c.messages.some((m) => m.message.length > limit)) throw ImapError.no(`Message is larger than APPENDLIMIT=${limit}`, 'TOOBIG');
  const dates = c.messages.map((m) => utcDate(m.date ?? new Date()));
  const one = await importInOne(s, c, flags, dates);
  const target = one?.target ?? await targetMailbox(s, c.mailbox);
  const account = accountOf(s, target); // own or shared account (shared-accounts.ts)
  let ids: string[];
  let states = null as WriteStates | null; // (set in a callback: no narrowing to null)
  let uidValidity: number;
  if (one && 'emailId' in one) {
    ({ uidValidity, states } = one);
    ids = [one.emailId];
  } else {
    const backend = account.backend;
    uidValidity = await openTarget(s, target.info.id, account);
    const uploaded = one?.uploaded ?? null;
    const blobIds = uploaded !== null ? [uploaded]
      : await Promise.all(c.messages.map((m) => uploadOnceMore(() => backend.uploadBlob(m.message))));
    const known = await knownBefore(s, account.accountKey, target.info.id);
    ids = await backend.importBlobs(c.messages.map((_, i) => ({
      blobId: blobIds[i]!, mailboxIds: [target.info.id], keywords: flags[i]!.keywords, receivedAt: dates[i]!,
    })), { known, onStates: (x) => { states = x; } });
  }
  const dest = target.info.id;
  const { uidStore } = s.config;
  const own: OwnImport = { states };
  const assigned = await assignOwn(uidStore, account.accountKey, dest, ids, own); // settles the import's states (sync.ts)
  const uids = ids.map((id) => assigned.get(id)!);
  ids.forEach((id, i) => noteKeywords(s, id, flags[i]!.keywords)); // what a STORE may predict from (known-keywords.ts)
  await uidStore.setDeleted(account.accountKey, dest, uids.filter((_, i) => flags[i]!.deleted), true);
  const view = s.selected;
  if (view && view.mailboxId === dest && s.account === account) {
    // The import was the only change since the view's state: the message joins it (RFC 9051 §7.4.1); else catch up.
    if (uids.length === 1 && states && own.advanced && own.modseq !== undefined && view.appendOwn(uids[0]!, ids[0]!, own.modseq, states)) {
      await s.send({ type: 'EXISTS', count: view.exists });
    } else await view.refresh(s);
    for (const u of uids.filter((_, i) => flags[i]!.deleted)) view.deleted.add(u);
  }
  return { code: { name: 'APPENDUID', data: `${uidValidity} ${formatSequence(uids)}` }, text: 'APPEND completed' };
}

/**
 * The one-request path (see the header): the imported message, or, when it ended without one, the mailbox the name
 * means now and the blob already uploaded (null: upload it again); null when the path does not apply (nothing sent).
 */
async function importInOne(s: Session, c: CommandOf<'APPEND'>, flags: Flags[], dates: string[]): Promise<ImportedOne | { target: ImapMailbox; uploaded: string | null } | null> {
  const home = s.home;
  const name = decodeName(s, c.mailbox);
  if (c.messages.length !== 1 || !home || !home.backend.importInOne || inOtherUsers(s, name)) return null;
  const kept = keptTarget(home, name);
  if (!kept || !kept.mailbox.info.myRights.mayAddItems) return null;
  const dest = kept.mailbox.info.id;
  const { uidStore } = s.config;
  const opened = await uidStore.openMailbox(home.accountKey, dest);
  if (opened.syncState === null) return null; // first use: the messages there get their UIDs first (target.ts)
  const known = await knownBefore(s, home.accountKey, dest, opened.uidNext);
  const r = await home.backend.importInOne(c.messages[0]!.message, { mailboxIds: [dest], keywords: flags[0]!.keywords, receivedAt: dates[0]! }, kept.state, { known });
  if (!r) return null;
  let target = kept.mailbox;
  if (!confirmKept(home, kept.state, r.mailbox, r.named, kept.mailbox.info)) {
    const now = findMailbox(await mailboxTree(s), name); // the tree changed (or the outcome was unknown): read it again
    if (!now || now.info.id !== dest || !now.info.myRights.mayAddItems) {
      if (r.emailId !== null) await home.backend.destroyEmails([r.emailId]); // undo: never shown, no UID assigned
      if (!now) throw ImapError.no(`Mailbox does not exist: ${name}`, 'TRYCREATE');
      if (!now.info.myRights.mayAddItems) throw ImapError.no(`Permission denied to add messages to ${name}`, 'NOPERM');
      return { target: now, uploaded: r.blobId };
    }
    target = now;
  }
  if (r.emailId !== null) return { target, uidValidity: opened.uidValidity, emailId: r.emailId, states: r.states };
  if (r.error) throw r.error;
  return { target, uploaded: r.blobId };
}

/**
 * The read-back's "already there" (import-readback.ts): the emails the map had BEFORE the import was sent, i.e. under
 * the UIDNEXT noted now. Read after a failure, the whole map could hold this very import, synced meanwhile by another
 * session (IDLE, NOOP) while the answer was late: the read-back would skip it and import the message again.
 */
async function knownBefore(s: Session, accountKey: string, mailboxId: string, uidNext?: number): Promise<() => Promise<Set<string>>> {
  const below = uidNext ?? (await s.config.uidStore.openMailbox(accountKey, mailboxId)).uidNext;
  return async () => new Set((await s.config.uidStore.list(accountKey, mailboxId)).filter((e) => e.uid < below).map((e) => e.emailId));
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
