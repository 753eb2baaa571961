/** SELECT / EXAMINE (RFC 9051 §6.3.2-3), CLOSE (§6.4.1), UNSELECT (§6.4.2, RFC 3691), CHECK (RFC 3501 §6.4.1). */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { MAILBOX_FLAGS, PERMANENT_FLAGS } from '../flags.ts';
import { DELIMITER } from '../mailboxes.ts';
import { encodeName, resolveSelected } from '../names.ts';
import type { Session } from '../session.ts';
import { MailboxView } from '../view.ts';
import { expungeDeleted } from '../expunge.ts';
import { isRev2 } from '../versions.ts';
import { CONDSTORE, isCondstore } from '../condstore.ts';
import { checkQresyncParams, resync } from '../qresync.ts';

/**
 * RFC 9051 §6.3.2: FLAGS, EXISTS, (rev1: RECENT), PERMANENTFLAGS, UIDVALIDITY, UIDNEXT, then the tagged OK with
 * [READ-WRITE] or [READ-ONLY]. A failed SELECT leaves no mailbox selected. After ENABLE IMAP4rev2: `* OK [CLOSED]`
 * first when a mailbox was selected, no RECENT (Appendix E item 12), and the REQUIRED `* LIST` of the mailbox with
 * accurate attributes (item 10). No `[UNSEEN]` in either version (deprecated, item 11; optional in RFC 3501).
 * `[CLOSED]` is sent in rev1 too: RFC 7162 §3.2.11 requires it of a server advertising CONDSTORE or QRESYNC.
 * With QRESYNC (RFC 7162 §3.2.5): the parameters are checked first (BAD leaves the mailbox as it was), the mailbox
 * opens as for a plain SELECT, then VANISHED (EARLIER) and the changed messages' FETCH come before the tagged OK.
 */
export async function selectCommand(s: Session, c: CommandOf<'SELECT' | 'EXAMINE'>): Promise<HandlerResult> {
  if (c.qresync) checkQresyncParams(s, c.qresync);
  if (c.condstore) s.enabled.add(CONDSTORE); // RFC 7162 §3.1.8: an enabling command; HIGHESTMODSEQ follows below
  const rev2 = isRev2(s);
  if (s.selected) await s.send({ type: 'status', status: 'OK', code: { name: 'CLOSED' }, text: 'Previous mailbox is now closed' });
  s.selected = null;
  s.state = 'authenticated';
  const { mailbox, prefetch } = await resolveSelected(s, c.mailbox);
  const rights = mailbox.info.myRights;
  if (!rights.mayReadItems) throw ImapError.no(`Permission denied to read ${c.mailbox}`, 'NOPERM');
  const writable = rights.maySetSeen || rights.maySetKeywords || rights.mayRemoveItems;
  const readOnly = c.type === 'EXAMINE' || !writable;
  const view = await MailboxView.open(s, mailbox, readOnly, prefetch);
  await s.send({ type: 'FLAGS', flags: [...MAILBOX_FLAGS] });
  await s.send({ type: 'EXISTS', count: view.exists });
  // RFC 3501 §6.3.1 requires RECENT; \Recent is not kept (DESIGN.md rule 6). RFC 9051 §6.3.2 requires LIST instead.
  if (rev2) await s.send({ type: 'LIST', attributes: mailbox.attributes, delimiter: DELIMITER, mailbox: encodeName(s, mailbox.name) });
  else await s.send({ type: 'RECENT', count: 0 });
  await s.send({
    type: 'status',
    status: 'OK',
    code: { name: 'PERMANENTFLAGS', data: readOnly ? '()' : `(${PERMANENT_FLAGS.join(' ')})` },
    text: readOnly ? 'No permanent flags permitted' : 'Flags permitted',
  });
  await s.send({ type: 'status', status: 'OK', code: { name: 'UIDVALIDITY', data: String(view.uidValidity) }, text: 'UIDs valid' });
  await s.send({ type: 'status', status: 'OK', code: { name: 'UIDNEXT', data: String(view.uidNext) }, text: 'Predicted next UID' });
  // RFC 8474 §4.2: the mailbox's object id (its JMAP id, stable across renames, never reused by JMAP).
  await s.send({ type: 'status', status: 'OK', code: { name: 'MAILBOXID', data: `(${mailbox.info.id})` }, text: 'Ok' });
  // RFC 7162 §3.1.2.1: every mailbox keeps mod-sequences (UID store), so never NOMODSEQ.
  if (isCondstore(s)) await s.send({ type: 'status', status: 'OK', code: { name: 'HIGHESTMODSEQ', data: String(view.highestModseq) }, text: 'Highest' });
  s.selected = view; // before resync: it works on the selected mailbox's account (Session.account)
  s.state = 'selected';
  if (c.qresync) {
    try {
      await resync(s, view, c.qresync);
    } catch (err) {
      s.selected = null;
      s.state = 'authenticated';
      throw err;
    }
  }
  return { code: { name: readOnly ? 'READ-ONLY' : 'READ-WRITE' }, text: `${c.type} completed` };
}

/** RFC 9051 §6.4.1: silently expunge `\Deleted` messages (unless read-only), then leave the mailbox. */
export async function closeCommand(s: Session): Promise<HandlerResult> {
  const view = s.selected!;
  if (!view.readOnly) await expungeDeleted(s, view, null, false);
  s.selected = null;
  s.state = 'authenticated';
}

/** RFC 3691: leave the mailbox without expunging. */
export async function unselectCommand(s: Session): Promise<HandlerResult> {
  s.selected = null;
  s.state = 'authenticated';
}

/** RFC 3501 §6.4.1: a checkpoint; JMAP writes are durable, so it is a NOOP that reports changes. */
export async function checkCommand(s: Session): Promise<HandlerResult> {
  await s.selected!.refresh(s);
}
