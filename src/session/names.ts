/**
 * Mailbox names on the wire (RFC 9051 §5.1.3): modified UTF-7 for IMAP4rev1 clients, UTF-8 once UTF8=ACCEPT is
 * enabled (RFC 6855 §3). Inside the gateway names are Unicode strings.
 */
import { ImapError } from '../protocol/errors.ts';
import { decodeMutf7, encodeMutf7 } from '../protocol/mutf7.ts';
import { buildNamespace, findMailbox, type ImapMailbox } from './mailboxes.ts';
import type { Session } from './session.ts';

/** A name the client sent -> Unicode. Invalid modified UTF-7 is BAD (RFC 9051 §5.1.3). */
export function decodeName(s: Session, wire: string): string {
  if (s.enabled.has('UTF8=ACCEPT')) return wire;
  const name = decodeMutf7(wire);
  if (name === null) throw ImapError.bad('Mailbox name is not valid modified UTF-7 (RFC 9051 §5.1.3)');
  return name;
}

/** A Unicode name -> what goes on the wire to this client. */
export function encodeName(s: Session, name: string): string {
  return s.enabled.has('UTF8=ACCEPT') ? name : encodeMutf7(name);
}

/** The account's mailbox tree (one `Mailbox/get`). */
export async function mailboxTree(s: Session): Promise<ImapMailbox[]> {
  const { mailboxes } = await s.account!.backend.listMailboxes();
  return buildNamespace(mailboxes);
}

/** The mailbox a command names, or NO [NONEXISTENT] (RFC 5530). */
export async function resolveMailbox(s: Session, wire: string): Promise<ImapMailbox> {
  const name = decodeName(s, wire);
  const found = findMailbox(await mailboxTree(s), name);
  if (!found) throw ImapError.no(`Mailbox does not exist: ${name}`, 'NONEXISTENT');
  return found;
}
