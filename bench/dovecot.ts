/**
 * The benchmark's Dovecot: a private instance (test/helpers/dovecot.ts) over a Maildir of the corpus, the same bytes
 * and order as the embedded store, INTERNALDATE of message i = RECEIVED_BASE_MS + i seconds. Process limits are
 * raised so that 1,000 IMAP connections fit (Dovecot runs one `imap` process per connection; the default limit is 100).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forgetDovecotIndexes, startDovecot } from '../test/helpers/dovecot.ts';
import { BENCH_PASSWORD, BENCH_USER, RECEIVED_BASE_MS, processTree, pssKB, type Target } from './targets.ts';

export { dovecotVersion, freePort } from '../test/helpers/dovecot.ts';

/** Room for the IDLE scenario's 1,000 connections plus the others. */
const LIMITS = `default_process_limit = 1500
default_client_limit = 4000
`;

/** Starts Dovecot over a fresh Maildir of `messages`; throws when Dovecot is not installed or does not start. */
export async function startDovecotTarget(dir: string, messages: Uint8Array[]): Promise<Target> {
  const d = await startDovecot({
    dir, user: BENCH_USER, password: BENCH_PASSWORD, messages, internalDateMs: (i) => RECEIVED_BASE_MS + i * 1000, extraConfig: LIMITS,
  });
  const master = () => Number(readFileSync(join(dir, 'run', 'master.pid'), 'utf8')); // written once the daemon runs
  return {
    name: 'dovecot',
    port: d.port,
    /** Forgets INBOX's indexes between sessions, so the next session finds a Maildir never opened. */
    async makeCold() {
      forgetDovecotIndexes(d.maildir);
    },
    pssKB: () => pssKB(processTree(master())),
    close: () => d.stop(),
  };
}
