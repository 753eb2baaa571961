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
  const idling = new Idling(s, c.tag);
  s.waitForLine((frame) => idling.end(frame));
  return 'deferred';
}

/**
 * One IDLE in progress: its change subscription and the chain of updates sent from it (serialized, so nothing
 * follows the tagged answer). A class rather than closures: an idling session is the common case of an idle
 * connection, whose memory counts (issue 8).
 */
class Idling {
  private updates: Promise<void> = Promise.resolve();
  private readonly stop: () => void;

  constructor(
    private readonly s: Session,
    private readonly tag: string,
  ) {
    const account = s.account!;
    this.stop = s.onEnd(s.config.changeHub.subscribe(account.accountKey, account.backend, () => this.pulse()));
  }

  /** The account may have changed: catch up and report (RFC 9051 §7.5.1, §7.5.2). */
  private pulse(): void {
    const s = this.s;
    this.updates = this.updates.then(async () => {
      if (!s.finished && s.selected) await reportHighestAfterExpunges(s, await s.selected.refresh(s));
    }).catch((err: unknown) => s.config.logger.warn({ conn: s.connection.id, err: String(err) }, 'IDLE update failed'));
  }

  /** The line that ends IDLE: DONE, anything else is BAD (RFC 2177). */
  async end(frame: Uint8Array): Promise<void> {
    this.stop();
    await this.updates;
    const s = this.s;
    if (isIdleDone(frame)) await s.send({ type: 'tagged', tag: this.tag, status: 'OK', text: 'IDLE terminated' });
    else await s.send({ type: 'tagged', tag: this.tag, status: 'BAD', text: 'Expected DONE to end IDLE' });
  }
}
