/**
 * STORE / UID STORE (RFC 9051 §6.4.6, §6.4.9): FLAGS, +FLAGS, -FLAGS and their .SILENT forms.
 *
 * Keywords live in JMAP (one `Email/set` keywords patch per message, all-or-nothing: JmapBackend.updateKeywords);
 * `\Deleted` lives in the UID store (DESIGN.md rule 6). The resulting flags are computed from the keywords read
 * just before the patch, so the untagged FETCH shows what the message now has.
 *
 * Round trips: one `Email/get` (current keywords) plus, when anything changes, one request of `Email/get` +
 * `Email/set` (and one more to revert on a partial failure).
 */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, FetchResponseItem } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { parseFlagArgs } from '../flag-args.ts';
import type { Session } from '../session.ts';

type Change = { id: string; add: string[]; remove: string[] };

export async function storeCommand(s: Session, c: CommandOf<'STORE'>): Promise<HandlerResult> {
  if (c.unchangedSince !== undefined) throw ImapError.bad('UNCHANGEDSINCE needs CONDSTORE, not supported yet');
  const want = parseFlagArgs(c.flags);
  const view = s.selected!;
  if (view.readOnly) throw ImapError.no('Mailbox is read-only', 'READ-ONLY');
  const refs = view.resolve(c.sequence, c.uid);
  if (refs.length === 0) return;
  const account = s.account!;
  const metas = new Map((await account.backend.getEmails(refs.map((r) => r.emailId))).map((m) => [m.id, m] as const));
  const live = refs.filter((r) => metas.has(r.emailId)); // gone from the store since the view was built: skipped
  const after = new Map<number, string[]>();
  const changes: Change[] = [];
  for (const r of live) {
    const cur = metas.get(r.emailId)!.keywords.map((k) => k.toLowerCase());
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
  try {
    await account.backend.updateKeywords(changes);
  } catch (err) {
    await uidStore.setDeleted(account.accountKey, view.mailboxId, on, false);
    await uidStore.setDeleted(account.accountKey, view.mailboxId, off, true);
    throw err;
  }
  for (const u of on) view.deleted.add(u);
  for (const u of off) view.deleted.delete(u);

  if (c.silent) return;
  for (const r of live) {
    const items: FetchResponseItem[] = [{ type: 'FLAGS', flags: view.flagsOf(r.uid, after.get(r.uid)!) }];
    if (c.uid) items.unshift({ type: 'UID', uid: r.uid }); // RFC 9051 §6.4.9: UID in every FETCH of a UID command
    await s.send({ type: 'FETCH', seq: r.seq, items });
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
