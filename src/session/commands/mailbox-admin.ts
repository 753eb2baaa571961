/**
 * CREATE (RFC 9051 §6.3.4, RFC 6154 §3 USE), DELETE (§6.3.5), RENAME (§6.3.6), SUBSCRIBE / UNSUBSCRIBE
 * (§6.3.7-8) over JMAP `Mailbox/set` (RFC 8621 §2.5). Hierarchy is JMAP's `parentId`, so missing parents are
 * created as mailboxes and children follow a renamed parent. Each command: one `Mailbox/get` and one `Mailbox/set`
 * (RENAME to a new parent: two; RENAME INBOX adds the listing and the `Email/set` moves). Refusals: NONEXISTENT,
 * ALREADYEXISTS, HASCHILDREN, NOPERM (`myRights`), USEATTR, CANNOT (RFC 5530, RFC 6154).
 */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { MailboxCreate } from '../../backend/backend.ts';
import type { HandlerResult } from '../dispatch.ts';
import {
  DELIMITER, findMailbox, nameLevels, normalizeMailboxName, specialUseToRole, toJmapName, type ImapMailbox,
} from '../mailboxes.ts';
import { decodeName, decodeNewName, mailboxTree, resolveMailbox } from '../names.ts';
import type { Session } from '../session.ts';
import { accountOf, inOtherUsers } from '../shared-accounts.ts';

/** RFC 9051 §6.3.4: creates the missing parents too; `(USE (\X))` sets the JMAP role (one role per mailbox). */
export async function createCommand(s: Session, c: CommandOf<'CREATE'>): Promise<HandlerResult> {
  const levels = wantedLevels(decodeNewName(s, c.mailbox));
  notInOtherUsers(s, levels.join(DELIMITER));
  const role = roleOf(c.specialUse ?? []);
  const tree = await mailboxTree(s);
  const name = levels.join(DELIMITER);
  if (findMailbox(tree, name)) throw ImapError.no(`Mailbox already exists: ${name}`, 'ALREADYEXISTS');
  if (role) {
    const holder = tree.find((m) => m.info.role === role);
    if (holder) throw new ImapError('NO', `${holder.name} already has this special use`, { name: 'USEATTR' });
  }
  const { parent, missing } = splitExisting(tree, levels);
  const chain: MailboxCreate[] = missing.map((l) => ({ name: toJmapName(l) }));
  if (role) chain[chain.length - 1]!.role = role;
  const ids = await s.home!.backend.createMailboxes(parent?.info.id ?? null, chain);
  const created = ids[ids.length - 1];
  // RFC 8474 §4.1: the new mailbox's MAILBOXID (its JMAP id) in the tagged OK.
  return { text: 'CREATE completed', ...(created ? { code: { name: 'MAILBOXID', data: `(${created})` } } : {}) };
}

/**
 * RFC 9051 §6.3.5: INBOX cannot be deleted; a mailbox with children is refused with HASCHILDREN (JMAP has no
 * \Noselect placeholders to leave behind); messages go with the mailbox. The UID store forgets it. Deleting the
 * selected mailbox closes it (`* OK [CLOSED]`, RFC 9051 §7.1) and leaves the session in the authenticated state.
 */
export async function deleteCommand(s: Session, c: CommandOf<'DELETE'>): Promise<HandlerResult> {
  const mailbox = await resolveMailbox(s, c.mailbox.endsWith(DELIMITER) ? c.mailbox.slice(0, -1) : c.mailbox);
  notInOtherUsers(s, mailbox.name);
  if (mailbox.name === 'INBOX') throw ImapError.no('INBOX cannot be deleted', 'CANNOT');
  if (mailbox.hasChildren) throw ImapError.no(`${mailbox.name} has inferior hierarchical names`, 'HASCHILDREN');
  if (!mailbox.info.myRights.mayDelete) throw ImapError.no(`Permission denied to delete ${mailbox.name}`, 'NOPERM');
  const { backend, accountKey } = s.home!;
  await backend.destroyMailboxes([mailbox.info.id], true);
  await s.config.uidStore.resetMailbox(accountKey, mailbox.info.id);
  if (s.selected?.mailboxId === mailbox.info.id) {
    s.selected = null;
    s.state = 'authenticated';
    await s.send({ type: 'status', status: 'OK', code: { name: 'CLOSED' }, text: 'The selected mailbox was deleted' });
  }
  return { text: 'DELETE completed' };
}

/**
 * RFC 9051 §6.3.6: children move with the mailbox (they hang on its JMAP id), missing parents of the new name are
 * created, and UIDVALIDITY and UIDs stay (the UID map is keyed by JMAP id). RENAME INBOX moves its messages to a
 * new mailbox and leaves INBOX (and its children) in place.
 */
export async function renameCommand(s: Session, c: CommandOf<'RENAME'>): Promise<HandlerResult> {
  const from = normalizeMailboxName(decodeName(s, c.mailbox));
  const levels = wantedLevels(decodeNewName(s, c.newName));
  const to = levels.join(DELIMITER);
  notInOtherUsers(s, from);
  notInOtherUsers(s, to);
  const tree = await mailboxTree(s);
  const source = findMailbox(tree, from);
  if (!source) throw ImapError.no(`Mailbox does not exist: ${from}`, 'NONEXISTENT');
  if (findMailbox(tree, to)) throw ImapError.no(`Mailbox already exists: ${to}`, 'ALREADYEXISTS');
  if (source.name !== 'INBOX' && to.startsWith(source.name + DELIMITER)) throw ImapError.no('A mailbox cannot be moved under itself', 'CANNOT');
  const { parent, missing } = splitExisting(tree, levels);
  const backend = s.home!.backend;
  if (source.name === 'INBOX') {
    if (!source.info.myRights.mayRemoveItems) throw ImapError.no('Permission denied to move messages out of INBOX', 'NOPERM');
    const created = await backend.createMailboxes(parent?.info.id ?? null, missing.map((l) => ({ name: toJmapName(l) })));
    const target = created[created.length - 1]!;
    try {
      const { ids } = await backend.listEmailIds(source.info.id);
      await backend.updateMailboxes(ids.map((id) => ({ id, add: [target], remove: [source.info.id] })));
    } catch (err) {
      await backend.destroyMailboxes(created.reverse(), false).catch(() => undefined);
      throw err;
    }
    return { text: 'RENAME completed' };
  }
  if (!source.info.myRights.mayRename) throw ImapError.no(`Permission denied to rename ${source.name}`, 'NOPERM');
  const parents = await backend.createMailboxes(parent?.info.id ?? null, missing.slice(0, -1).map((l) => ({ name: toJmapName(l) })));
  try {
    await backend.updateMailbox(source.info.id, { name: toJmapName(levels[levels.length - 1]!), parentId: parents.at(-1) ?? parent?.info.id ?? null });
  } catch (err) {
    await backend.destroyMailboxes(parents.reverse(), false).catch(() => undefined);
    throw err;
  }
  return { text: 'RENAME completed' };
}

/** RFC 9051 §6.3.7: `isSubscribed` of an existing mailbox (JMAP cannot subscribe a name that does not exist). */
export async function subscribeCommand(s: Session, c: CommandOf<'SUBSCRIBE' | 'UNSUBSCRIBE'>): Promise<HandlerResult> {
  const mailbox = await resolveMailbox(s, c.mailbox);
  const isSubscribed = c.type === 'SUBSCRIBE';
  if (mailbox.info.id === '') throw ImapError.no(`${mailbox.name} is not a mailbox`, 'CANNOT'); // an Other Users level
  if (mailbox.info.isSubscribed !== isSubscribed) await accountOf(s, mailbox).backend.updateMailbox(mailbox.info.id, { isSubscribed });
  return { text: `${c.type} completed` };
}

/**
 * Mailboxes of accounts shared with the user are not created, deleted or renamed over IMAP (the other-users
 * namespace, shared-accounts.ts): NO [NOPERM] (RFC 5530), and a name there is never made in the user's own account.
 */
function notInOtherUsers(s: Session, name: string): void {
  if (inOtherUsers(s, normalizeMailboxName(name))) throw ImapError.no(`Permission denied: ${name} is in another user's account`, 'NOPERM');
}

/** The levels of a name to create, or NO [CANNOT] when it cannot be one (empty level, INBOX itself). */
function wantedLevels(name: string): string[] {
  const levels = nameLevels(name);
  if (!levels) throw ImapError.no(`Invalid mailbox name: ${name}`, 'CANNOT');
  if (levels.length === 1 && levels[0] === 'INBOX') throw ImapError.no('INBOX always exists', 'ALREADYEXISTS');
  return levels;
}

/** RFC 6154 §3 USE attributes -> the one JMAP role, or NO [USEATTR]. */
function roleOf(attributes: string[]): string | undefined {
  if (attributes.length === 0) return undefined;
  if (attributes.length > 1) throw new ImapError('NO', 'A mailbox can have only one special use here', { name: 'USEATTR' });
  const role = specialUseToRole(attributes[0]!);
  if (!role) throw new ImapError('NO', `${attributes[0]} is not supported`, { name: 'USEATTR' });
  return role;
}

/**
 * The deepest existing ancestor of a new name and the levels below it that must be created (the last one is the
 * name itself). NO [NOPERM] when that ancestor refuses children (RFC 8621 §2.1 mayCreateChild).
 */
function splitExisting(tree: ImapMailbox[], levels: string[]): { parent: ImapMailbox | undefined; missing: string[] } {
  for (let i = levels.length - 1; i > 0; i--) {
    const parent = findMailbox(tree, levels.slice(0, i).join(DELIMITER));
    if (!parent) continue;
    if (!parent.info.myRights.mayCreateChild) throw ImapError.no(`Permission denied to create under ${parent.name}`, 'NOPERM');
    return { parent, missing: levels.slice(i) };
  }
  return { parent: undefined, missing: levels };
}
