/** EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1, RFC 9051 §6.4.9). */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { expungeDeleted } from '../expunge.ts';
import type { Session } from '../session.ts';
import { expungedHighest } from '../qresync.ts';

/**
 * `* n EXPUNGE` for every `\Deleted` message (UID EXPUNGE: only those of the UID set), highest first, then OK.
 * `\Deleted` is re-read from the UID store first: another session of the same account may have set it.
 */
export async function expungeCommand(s: Session, c: CommandOf<'EXPUNGE'>): Promise<HandlerResult> {
  const view = s.selected!;
  if (view.readOnly) throw view.readOnlyError();
  const only = c.uid ? new Set(view.resolve(c.sequence, true).map((r) => r.uid)) : null;
  const gone = await expungeDeleted(s, view, only, true);
  const code = await expungedHighest(s, gone.length); // RFC 7162 §3.2.7 / §3.2.9: [HIGHESTMODSEQ] under QRESYNC
  if (code) return { code, text: 'EXPUNGE completed' };
}
