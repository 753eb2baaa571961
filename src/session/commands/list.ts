/** LIST (RFC 9051 §6.3.9), basic form. LIST-EXTENDED options (RFC 5258) are parsed but not served yet. */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { DELIMITER, listMatcher } from '../mailboxes.ts';
import { decodeName, encodeName, mailboxTree } from '../names.ts';
import type { Session } from '../session.ts';

export async function listCommand(s: Session, c: CommandOf<'LIST'>): Promise<HandlerResult> {
  if (c.extended) throw ImapError.no('LIST-EXTENDED options are not supported yet', 'CANNOT');
  const reference = decodeName(s, c.reference);
  for (const wirePattern of c.patterns) {
    const pattern = decodeName(s, wirePattern);
    if (pattern === '') {
      // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root of the reference.
      const root = reference.includes(DELIMITER) ? reference.slice(0, reference.indexOf(DELIMITER) + 1) : '';
      await s.send({ type: 'LIST', attributes: ['\\Noselect'], delimiter: DELIMITER, mailbox: encodeName(s, root) });
      continue;
    }
    const matches = listMatcher(reference, pattern);
    for (const m of await mailboxTree(s)) {
      if (matches(m.name)) await s.send({ type: 'LIST', attributes: m.attributes, delimiter: DELIMITER, mailbox: encodeName(s, m.name) });
    }
  }
}
