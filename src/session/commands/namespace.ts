/**
 * NAMESPACE (RFC 2342, RFC 9051 §6.3.10): one personal namespace, the root with delimiter `/`.
 *
 * Other users' and shared namespaces stay NIL: the session serves the JMAP primary mail account only. The design
 * for JMAP accounts the user can reach besides it (RFC 8620 §2 `accounts` with `isPersonal: false`) is an "other
 * users" namespace `Other Users/` (RFC 2342 §5), one level per account named by its `name`, e.g.
 * `Other Users/bob@example.com/INBOX`: LIST walks each account's `Mailbox/get`, SELECT opens a MailboxView on a
 * backend bound to that accountId, and the UID store keys those mailboxes by the other accountId (never the
 * user's own). Announced here only once LIST, SELECT and the UID map work for those accounts.
 */
import type { HandlerResult } from '../dispatch.ts';
import { DELIMITER } from '../mailboxes.ts';
import type { Session } from '../session.ts';

export async function namespaceCommand(s: Session): Promise<HandlerResult> {
  await s.send({ type: 'NAMESPACE', personal: [{ prefix: '', delimiter: DELIMITER }], other: null, shared: null });
}
