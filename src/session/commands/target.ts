/**
 * The destination mailbox of COPY / MOVE / APPEND (RFC 9051 §6.4.7, §6.4.8, §6.3.12) and its UID state.
 */
import { ImapError } from '../../protocol/errors.ts';
import type { ImapMailbox } from '../mailboxes.ts';
import { findMailbox } from '../mailboxes.ts';
import { decodeName, mailboxTree } from '../names.ts';
import type { Session } from '../session.ts';
import type { AccountContext } from '../context.ts';
import { inOtherUsers, treeFor } from '../shared-accounts.ts';
import { syncMailbox } from '../sync.ts';

/**
 * The named mailbox, which must accept new messages. A missing one is `NO [TRYCREATE]` (the client may CREATE it
 * and retry; the server must not create it, RFC 9051 §6.4.7); one without `mayAddItems` is `NO [NOPERM]`.
 */
export async function targetMailbox(s: Session, wire: string): Promise<ImapMailbox> {
  const name = decodeName(s, wire);
  const found = findMailbox(await treeFor(s, name, () => mailboxTree(s)), name);
  if (!found) throw ImapError.no(`Mailbox does not exist: ${name}`, inOtherUsers(s, name) ? 'NONEXISTENT' : 'TRYCREATE');
  if (!found.info.myRights.mayAddItems) throw ImapError.no(`Permission denied to add messages to ${name}`, 'NOPERM');
  return found;
}

/**
 * The UIDVALIDITY of the destination, its UID map brought up to date first if it was never synced: the messages
 * already there get their UIDs before the new ones, so UIDs ascend in arrival order (RFC 9051 §2.3.1.1).
 */
export async function openTarget(s: Session, mailboxId: string, account: AccountContext = s.account!): Promise<number> {
  const state = await s.config.uidStore.openMailbox(account.accountKey, mailboxId);
  if (state.syncState !== null) return state.uidValidity;
  return (await syncMailbox(account.backend, s.config.uidStore, account.accountKey, mailboxId)).uidValidity;
}
