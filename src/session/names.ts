/**
 * Mailbox names on the wire (RFC 9051 §5.1.3): modified UTF-7 for IMAP4rev1 clients, UTF-8 once UTF8=ACCEPT (RFC
 * 6855 §3) or IMAP4rev2 (RFC 9051 §5.1) is enabled. Inside the gateway names are Unicode strings.
 */
import { ImapError } from '../protocol/errors.ts';
import { decodeMutf7, encodeMutf7 } from '../protocol/mutf7.ts';
import { findMailbox, type ImapMailbox } from './mailboxes.ts';
import type { Session } from './session.ts';
import { treeFor } from './shared-accounts.ts';
import { keepTree, resolveForSelect, type SelectTarget } from './tree-cache.ts';
import { isUtf8 } from './versions.ts';

/** A name the client sent -> Unicode. Invalid modified UTF-7 is BAD (RFC 9051 §5.1.3). */
export function decodeName(s: Session, wire: string): string {
  if (isUtf8(s)) return wire;
  const name = decodeMutf7(wire);
  if (name === null) throw ImapError.bad('Mailbox name is not valid modified UTF-7 (RFC 9051 §5.1.3)');
  return name;
}

/**
 * A name the client wants to create (CREATE, RENAME's new name). In UTF-8 mode the name must be Net-Unicode (RFC
 * 9051 §5.1 "MUST prohibit the creation of 8-bit mailbox names that do not comply", RFC 6855 §3, RFC 5198 §2):
 * Normalization Form C and no control characters; otherwise NO [CANNOT], so no name exists that a later SELECT
 * could spell differently (the OLDNAME case of RFC 9051 §6.3.2 never arises).
 */
export function decodeNewName(s: Session, wire: string): string {
  const name = decodeName(s, wire);
  if (!isUtf8(s)) return name;
  if (name.normalize('NFC') !== name || /[\u0000-\u001f\u007f-\u009f]/u.test(name)) {
    throw ImapError.no('Mailbox name must be UTF-8 in Normalization Form C without control characters (RFC 9051 §5.1)', 'CANNOT');
  }
  return name;
}

/** A Unicode name -> what goes on the wire to this client. */
export function encodeName(s: Session, name: string): string {
  return isUtf8(s) ? name : encodeMutf7(name);
}

/** The user's own account's mailbox tree (one `Mailbox/get`), kept for the next SELECT (tree-cache.ts). */
export async function mailboxTree(s: Session): Promise<ImapMailbox[]> {
  const { state, mailboxes } = await s.home!.backend.listMailboxes();
  return keepTree(s.home!, state, mailboxes);
}

/**
 * The mailbox SELECT / EXAMINE names, with the sync's first `Email/changes` page when the kept tree allowed asking
 * it in the same request (tree-cache.ts: a warm SELECT costs one request).
 */
export function resolveSelected(s: Session, wire: string): Promise<SelectTarget> {
  const name = decodeName(s, wire);
  return resolveForSelect(s, name, () => mailboxTree(s), () => resolveMailbox(s, wire));
}

/** The mailbox a command names (own or in a shared account, shared-accounts.ts), or NO [NONEXISTENT] (RFC 5530). */
export async function resolveMailbox(s: Session, wire: string): Promise<ImapMailbox> {
  const name = decodeName(s, wire);
  const found = findMailbox(await treeFor(s, name, () => mailboxTree(s)), name);
  if (!found) throw ImapError.no(`Mailbox does not exist: ${name}`, 'NONEXISTENT');
  return found;
}
