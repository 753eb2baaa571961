/**
 * The IDLE change source of a Worker connection (RFC 2177, RFC 9051 §6.3.13): instead of its own poller, a session
 * long-polls its account's Durable Object (account-watch.ts), which owns the one watcher of the account and fans
 * changes out to every session of it, whichever Worker invocation serves them. Each call hands the object this
 * connection's credential, so the object always has the newest one.
 *
 * A subclass of ChangeHub so that it fits GatewayConfig.changeHub; only `subscribe` differs.
 */
import type { MailBackend } from '../backend/backend.ts';
import type { Logger } from '../session/context.ts';
import { ChangeHub } from '../session/watch.ts';
import type { WatchCredential } from './account-watch.ts';
import { LONG_POLL_MS } from './do-uid-store.ts';

/** The part of the account object's RPC surface the hub uses. */
export interface ChangeWaitRpc {
  waitForChange(since: number, credential: WatchCredential | undefined, timeoutMs: number): Promise<number>;
}

export class DoChangeHub extends ChangeHub {
  /** This connection's credential, set at login (worker.ts). */
  credential: WatchCredential | undefined;
  private active = 0;

  constructor(private readonly objectOf: (accountKey: string) => ChangeWaitRpc, private readonly log: Logger) {
    super();
  }

  override subscribe(accountKey: string, _backend: MailBackend, listener: () => void): () => void {
    let stopped = false;
    this.active++;
    void (async () => {
      let since = -1;
      let failures = 0;
      while (!stopped) {
        try {
          const v = await this.objectOf(accountKey).waitForChange(since, this.credential, LONG_POLL_MS);
          if (!stopped && since !== -1 && v !== since) listener();
          since = v;
          failures = 0;
        } catch (err) {
          this.log.warn({ err: String(err) }, 'change fan-out: account object unreachable; retrying');
          await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** failures++, 30_000)));
        }
      }
    })();
    return () => {
      if (!stopped) this.active--;
      stopped = true;
    };
  }

  override get watchedAccounts(): number {
    return this.active > 0 ? 1 : 0;
  }

  override modeOf(): string | undefined {
    return this.active > 0 ? 'object' : undefined;
  }
}
