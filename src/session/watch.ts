/**
 * Change notification for IDLE (RFC 2177, RFC 9051 §6.3.13): one watcher per account in this process, shared
 * by all its sessions. It listens to JMAP push (RFC 8620 §7.3 EventSource) where the backend offers it and polls
 * the Email/Mailbox state strings otherwise (Cyrus answers its EventSource with 204). Bursts are coalesced into one
 * pulse; each session then catches up with `Email/changes` itself (MailboxView.refresh).
 *
 * The watcher borrows a subscriber's backend (its credentials); when that subscriber leaves, it switches to
 * another one, and it stops when none is left.
 */
import type { MailBackend } from '../backend/backend.ts';
import type { Logger } from './context.ts';

export interface WatchOptions {
  /** Poll interval when the backend has no working push. */
  pollIntervalMs: number;
  /** Changes within this window produce one pulse. */
  coalesceMs: number;
  /** Wait before trying push again after the stream broke (doubles up to 32x). */
  pushRetryMs: number;
}

export const DEFAULT_WATCH: WatchOptions = { pollIntervalMs: 10_000, coalesceMs: 50, pushRetryMs: 1_000 };

interface Subscriber {
  backend: MailBackend;
  listener: () => void;
}

export class ChangeHub {
  private readonly feeds = new Map<string, AccountFeed>();

  constructor(
    private readonly options: WatchOptions = DEFAULT_WATCH,
    private readonly logger?: Logger,
  ) {}

  /** Call `listener` (coalesced) whenever the account's mail may have changed. Returns the unsubscribe function. */
  subscribe(accountKey: string, backend: MailBackend, listener: () => void): () => void {
    let feed = this.feeds.get(accountKey);
    if (!feed) {
      feed = new AccountFeed(this.options, this.logger, () => this.feeds.delete(accountKey));
      this.feeds.set(accountKey, feed);
    }
    return feed.add({ backend, listener });
  }

  /** Accounts being watched now (for tests and metrics). */
  get watchedAccounts(): number {
    return this.feeds.size;
  }

  /** How each account is watched now: 'push', 'poll' or 'starting'. */
  modeOf(accountKey: string): string | undefined {
    return this.feeds.get(accountKey)?.mode;
  }
}

class AccountFeed {
  private readonly subscribers = new Set<Subscriber>();
  private current: Subscriber | null = null;
  private abort: AbortController | null = null;
  private pending: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  mode: 'push' | 'poll' | 'starting' = 'starting';

  constructor(
    private readonly options: WatchOptions,
    private readonly logger: Logger | undefined,
    private readonly onEmpty: () => void,
  ) {}

  add(sub: Subscriber): () => void {
    this.subscribers.add(sub);
    if (!this.running) void this.run();
    return () => {
      this.subscribers.delete(sub);
      if (this.current === sub || this.subscribers.size === 0) this.abort?.abort();
    };
  }

  private pulse(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      for (const s of [...this.subscribers]) s.listener();
    }, this.options.coalesceMs);
  }

  private async run(): Promise<void> {
    this.running = true;
    let lastStates: string | null = null;
    let pushDelay = this.options.pushRetryMs;
    let nextPushTry = 0;
    try {
      while (this.subscribers.size > 0) {
        this.current = this.subscribers.values().next().value ?? null;
        if (!this.current) break;
        this.abort = new AbortController();
        const { signal } = this.abort;
        const push = Date.now() >= nextPushTry ? await this.current.backend.openPush(signal).catch(() => null) : null;
        if (push) {
          this.mode = 'push';
          this.pulse(); // changes may have happened while the stream was opening
          try {
            for await (const _ of push) this.pulse();
          } catch {
            // stream broken: fall back to a poll, then retry push later
          }
          if (!signal.aborted) {
            nextPushTry = Date.now() + pushDelay;
            pushDelay = Math.min(pushDelay * 2, this.options.pushRetryMs * 32);
          }
          continue;
        }
        this.mode = 'poll';
        if (!nextPushTry) nextPushTry = Number.POSITIVE_INFINITY; // the server has no push: do not ask again
        try {
          const s = await this.current.backend.currentStates();
          const key = `${s.email}\u0000${s.mailbox}`;
          if (key !== lastStates) this.pulse();
          lastStates = key;
        } catch (err) {
          this.logger?.warn({ err: String(err) }, 'change poll failed');
        }
        await sleep(this.options.pollIntervalMs, signal);
      }
    } finally {
      this.running = false;
      if (this.pending) clearTimeout(this.pending);
      this.pending = null;
      if (this.subscribers.size === 0) this.onEmpty();
      else void this.run();
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
