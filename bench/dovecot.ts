/**
 * The benchmark's Dovecot: a private instance (test/helpers/dovecot.ts) over a Maildir of the corpus, the same bytes
 * and order as the embedded store, INTERNALDATE of message i = RECEIVED_BASE_MS + i seconds.
 */
import { forgetDovecotIndexes, startDovecot } from '../test/helpers/dovecot.ts';
import { BENCH_PASSWORD, BENCH_USER, RECEIVED_BASE_MS, type Target } from './targets.ts';

export { dovecotVersion, freePort } from '../test/helpers/dovecot.ts';

/** Starts Dovecot over a fresh Maildir of `messages`; throws when Dovecot is not installed or does not start. */
export async function startDovecotTarget(dir: string, messages: Uint8Array[]): Promise<Target> {
  const d = await startDovecot({
    dir, user: BENCH_USER, password: BENCH_PASSWORD, messages, internalDateMs: (i) => RECEIVED_BASE_MS + i * 1000,
  });
  return {
    name: 'dovecot',
    port: d.port,
    /** Forgets INBOX's indexes between sessions, so the next session finds a Maildir never opened. */
    async makeCold() {
      forgetDovecotIndexes(d.maildir);
    },
    close: () => d.stop(),
  };
}
