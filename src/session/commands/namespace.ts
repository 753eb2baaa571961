/**
 * NAMESPACE (RFC 2342, RFC 9051 §6.3.10): the personal namespace is the root with delimiter `/`; the other-users
 * namespace `Other Users/` (RFC 2342 §5) exists when the JMAP session lists accounts shared with the user (RFC 8620
 * §2 `accounts` with `isPersonal: false`): one level per account named by its `name`, e.g.
 * `Other Users/alice@example.com/INBOX` (routing: shared-accounts.ts). The shared namespace stays NIL: JMAP has no
 * mailboxes outside accounts, and a shared account of nobody in particular still appears under its own name.
 */
import type { HandlerResult } from '../dispatch.ts';
import { DELIMITER } from '../mailboxes.ts';
import type { Session } from '../session.ts';
import { OTHER_USERS_PREFIX, hasOtherUsers } from '../shared-accounts.ts';

export async function namespaceCommand(s: Session): Promise<HandlerResult> {
  const other = hasOtherUsers(s) ? [{ prefix: OTHER_USERS_PREFIX, delimiter: DELIMITER }] : null;
  await s.send({ type: 'NAMESPACE', personal: [{ prefix: '', delimiter: DELIMITER }], other, shared: null });
}
