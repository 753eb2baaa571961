/**
 * Push fan-out in the account's Durable Object. workerd does not let one connection's I/O objects (a poller's
 * fetches, a push stream) be used by another connection, so sessions cannot share an in-process ChangeHub there.
 * Instead the account's object owns ONE watcher (the ordinary ChangeHub: JMAP push, RFC 8620 §7.3 EventSource,
 * else polling the Email/Mailbox states) and keeps a change counter; each idling session long-polls the object
 * (`wait(since)` returns as soon as the counter differs from `since`, or at the timeout) and then catches up with
 * Email/changes itself (MailboxView.refresh), as on Node.
 *
 * Credentials (RFC 8620 §1.8 / §8.2): the watcher uses the newest credential a session handed over; one the store
 * refuses (NO [AUTHENTICATIONFAILED], an HTTP 401) is dropped and the next newest is tried; with none left the
 * watcher stops. Credentials live only in the object's memory, never in its storage. With no session waiting for
 * `graceMs` the watcher stops too (a later waiter restarts it).
 */
import { JmapBackend } from '../backend/jmap/backend.ts';
import { JmapClient } from '../backend/jmap/client.ts';
import type { MailBackend } from '../backend/backend.ts';
import { ImapError } from '../protocol/errors.ts';
import type { Logger } from '../session/context.ts';
import { ChangeHub, type WatchOptions } from '../session/watch.ts';

/** What the object needs to reach the store as the user: the Session resource and an `Authorization` value. */
export interface WatchCredential {
  sessionUrl: string;
  authorization: string;
}

export interface AccountWatchOptions {
  watch: WatchOptions;
  logger: Logger;
  fetch?: typeof fetch;
  /** Stop watching this long after the last waiter left (ms). */
  graceMs: number;
  /** Credentials remembered as fallbacks (newest first). */
  maxCredentials: number;
}

/** What `status()` reports (tests, operations). */
export interface AccountWatchStatus {
  version: number;
  waiters: number;
  credentials: number;
  /** 'push' | 'poll' | 'starting' while watching, 'stopped' otherwise. */
  mode: string;
}

const FEED = 'account';
const isAuthFailure = (err: unknown): boolean => err instanceof ImapError && err.code?.name === 'AUTHENTICATIONFAILED';
const same = (a: WatchCredential, b: WatchCredential): boolean => a.sessionUrl === b.sessionUrl && a.authorization === b.authorization;

export class AccountWatch {
  private version = 0;
  private readonly waiters = new Set<() => void>();
  private credentials: WatchCredential[] = [];
  private active: WatchCredential | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly hub: ChangeHub;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly o: AccountWatchOptions) {
    this.hub = new ChangeHub(o.watch, o.logger);
  }

  /** Resolves with the change counter once it differs from `since` (at once if it already does), or at the timeout. */
  wait(since: number, credential: WatchCredential | undefined, timeoutMs: number): Promise<number> {
    if (credential) this.offer(credential);
    else if (!this.active) this.next();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    if (since !== this.version) {
      this.armGrace();
      return Promise.resolve(this.version);
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        this.armGrace();
        resolve(this.version);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Stop watching, wake every waiter, forget the credentials (tests; an object going away). */
  close(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.credentials = [];
    this.stop();
    for (const w of [...this.waiters]) w();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  /** With nobody waiting, stop watching after the grace period (a waiter arriving in between cancels it). */
  private armGrace(): void {
    if (this.waiters.size > 0) return;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      if (this.waiters.size === 0) this.stop();
    }, this.o.graceMs);
  }

    status(): AccountWatchStatus {
    return { version: this.version, waiters: this.waiters.size, credentials: this.credentials.length, mode: this.active ? this.hub.modeOf(FEED) ?? 'starting' : 'stopped' };
  }

  /** A session's credential: a new one becomes the watcher's; a known one only restarts a stopped watcher. */
  private offer(c: WatchCredential): void {
    if (this.credentials.some((k) => same(k, c))) {
      if (!this.active) this.next();
      return;
    }
    this.credentials = [c, ...this.credentials].slice(0, this.o.maxCredentials);
    this.start(c);
  }

  private changed(): void {
    this.version++;
    for (const w of [...this.waiters]) w();
  }

  /** Watch with the newest remembered credential, or stop when there is none. */
  private next(): void {
    const c = this.credentials[0];
    if (c) this.start(c);
    else this.stop();
  }

  private drop(c: WatchCredential): void {
    this.credentials = this.credentials.filter((k) => !same(k, c));
    this.o.logger.warn({ remaining: this.credentials.length }, 'push watcher: the mail store refused a credential; dropped');
    if (this.active && same(this.active, c)) {
      this.stop();
      this.next();
    }
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.active = null;
  }

  private start(c: WatchCredential): void {
    this.stop();
    this.active = c;
    void this.connect(c);
  }

  private async connect(c: WatchCredential): Promise<void> {
    let backend: MailBackend;
    try {
      const client = new JmapClient({ sessionUrl: c.sessionUrl, auth: { header: async () => c.authorization }, ...(this.o.fetch ? { fetch: this.o.fetch } : {}) });
      backend = await JmapBackend.connect(client);
    } catch (err) {
      if (this.active !== c) return;
      if (isAuthFailure(err)) return this.drop(c);
      this.o.logger.warn({ err: String(err) }, 'push watcher: mail store unreachable; retrying');
      this.active = null; // the next waiter's call restarts it
      return;
    }
    if (this.active !== c) return;
    // The borrowed backend, except that a refused credential is dropped instead of being polled forever.
    const watched: MailBackend = Object.create(backend) as MailBackend;
    watched.currentStates = async () => {
      try {
        return await backend.currentStates();
      } catch (err) {
        if (isAuthFailure(err)) queueMicrotask(() => this.drop(c));
        throw err;
      }
    };
    this.unsubscribe = this.hub.subscribe(FEED, watched, () => this.changed());
  }
}
