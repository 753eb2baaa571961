/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): report pending changes, send `+ idling`, then push EXISTS / EXPUNGE / FETCH
 * as the account changes (JMAP push or polling, see watch.ts) until the client sends DONE. Anything else than DONE
 * ends IDLE with BAD. Updates and the tagged answer are serialized, so nothing is sent after the tagged OK.
 * Under QRESYNC, expunges reported during IDLE are followed by `* OK [HIGHESTMODSEQ n]`; the tagged OK carries no
 * code (RFC 7162 asks nothing of IDLE; Dovecot answers the same way).
 */
import { isIdleDone } from '../../protocol/parse.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';
import { reportHighestAfterExpunges } from '../qresync.ts';

export async function idleCommand(s: Session, c: CommandOf<'IDLE'>): Promise<HandlerResult> {
  if (s.selected) await reportHighestAfterExpunges(s, await s.selected.refresh(s));
  await s.send({ type: 'continue', text: 'idling' });
  let updates: Promise<void> = Promise.resolve();
  const pulse = (): void => {
    updates = updates.then(async () => {
      if (!s.finished && s.selected) await reportHighestAfterExpunges(s, await s.selected.refresh(s));
    }).catch((err: unknown) => s.config.logger.warn({ conn: s.connection.id, err: String(err) }, 'IDLE update failed'));
  };
  const account = s.account!;
  const stop = s.onEnd(s.config.changeHub.subscribe(account.accountKey, account.backend, pulse));
  s.waitForLine(async (frame) => {
    stop();
    await updates;
    if (isIdleDone(frame)) await s.send({ type: 'tagged', tag: c.tag, status: 'OK', text: 'IDLE terminated' });
    else await s.send({ type: 'tagged', tag: c.tag, status: 'BAD', text: 'Expected DONE to end IDLE' });
  });
  return 'deferred';
}
