/**
 * HttpUidStore: a UidStore (src/uidmap/store.ts) for Node gateways that keeps nothing locally and calls the UID
 * store HTTP API (api.ts) of a Worker with Durable Objects: gateways on many machines then share one strongly
 * consistent store (the scale-out path of DESIGN.md "Runtimes"). One HTTP request per store call.
 *
 * An unreachable API, a timeout or a 5xx is `NO [UNAVAILABLE]` (RFC 5530); a store error keeps its code.
 */
import { ImapError, type ResponseCodeName } from '../protocol/errors.ts';
import type { EmailOrigin, MailboxSnapshot, MailboxUidState, SyncCommit, UidEntry, UidStore } from '../uidmap/store.ts';

export interface HttpUidStoreOptions {
  /** The API's base URL (the Worker's origin, e.g. `https://uid-store.example.workers.dev`). */
  baseUrl: string;
  /** The bearer token the API expects. */
  token: string;
  fetch?: typeof fetch;
  /** Per-request timeout (ms); default 10000. */
  timeoutMs?: number;
}

export class HttpUidStore implements UidStore {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: HttpUidStoreOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  private req<T>(method: string, account: string, mailboxId: string, op: string, json?: unknown): Promise<T> {
    return this.send(method, account, `mailboxes/${encodeURIComponent(mailboxId)}/${op}`, json);
  }

  /** One API call on `path` under the account. */
  private async send<T>(method: string, account: string, path: string, json?: unknown): Promise<T> {
    const url = `${this.base}/v1/accounts/${encodeURIComponent(account)}/${path}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.opts.token}` };
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method, headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    } catch (err) {
      throw ImapError.no(`UID store unavailable: ${(err as Error).message}`, 'UNAVAILABLE');
    }
    if (res.status === 204) return undefined as T;
    const data = (await res.json().catch(() => ({}))) as { code?: string; text?: string };
    if (res.ok) return data as T;
    const code: ResponseCodeName = res.status < 500 && res.status !== 401 && data.code ? (data.code as ResponseCodeName) : 'UNAVAILABLE';
    throw ImapError.no(data.text ?? `UID store answered HTTP ${res.status}`, code);
  }

  openMailbox(account: string, mailboxId: string): Promise<MailboxUidState> {
    return this.req('POST', account, mailboxId, 'open');
  }
  async assign(account: string, mailboxId: string, emailIds: string[]): Promise<Map<string, number>> {
    if (emailIds.length === 0) return new Map();
    return new Map((await this.req<{ uids: Array<[string, number]> }>('POST', account, mailboxId, 'assign', { emailIds })).uids);
  }
  async list(account: string, mailboxId: string): Promise<UidEntry[]> {
    return (await this.req<{ entries: UidEntry[] }>('GET', account, mailboxId, 'entries')).entries;
  }
  snapshot(account: string, mailboxId: string): Promise<MailboxSnapshot> {
    return this.req('POST', account, mailboxId, 'snapshot');
  }
  async commitSync(account: string, mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null> {
    const r = await this.req<{ committed: { state: MailboxUidState; uids: Array<[string, number]> } | null }>('POST', account, mailboxId, 'commit-sync', c);
    return r.committed && { state: r.committed.state, assigned: new Map(r.committed.uids) };
  }
  async expunge(account: string, mailboxId: string, uids: number[]): Promise<number[]> {
    return (await this.req<{ removed: number[] }>('POST', account, mailboxId, 'expunge', { uids })).removed;
  }
  async setSyncState(account: string, mailboxId: string, syncState: string): Promise<void> {
    await this.req('PUT', account, mailboxId, 'sync-state', { syncState });
  }
  async advanceSyncState(account: string, mailboxId: string, from: string, to: string): Promise<boolean> {
    return (await this.req<{ advanced: boolean }>('POST', account, mailboxId, 'advance-sync-state', { from, to })).advanced;
  }
  async resetMailbox(account: string, mailboxId: string): Promise<void> {
    await this.req('POST', account, mailboxId, 'reset');
  }
  async getDeleted(account: string, mailboxId: string): Promise<Set<number>> {
    return new Set((await this.req<{ uids: number[] }>('GET', account, mailboxId, 'deleted')).uids);
  }
  async setDeleted(account: string, mailboxId: string, uids: number[], deleted: boolean): Promise<void> {
    await this.req('POST', account, mailboxId, 'deleted', { uids, deleted });
  }
  async touch(account: string, mailboxId: string, uids: number[]): Promise<number> {
    return (await this.req<{ highestModseq: number }>('POST', account, mailboxId, 'touch', { uids })).highestModseq;
  }
  async vanished(account: string, mailboxId: string, sinceModseq: number): Promise<number[]> {
    return (await this.req<{ uids: number[] }>('GET', account, mailboxId, `vanished?since=${sinceModseq}`)).uids;
  }
  async setOrigins(account: string, origins: Map<string, EmailOrigin>): Promise<void> {
    if (origins.size > 0) await this.send('POST', account, 'origins/put', { origins: [...origins] });
  }
  async getOrigins(account: string, emailIds: string[]): Promise<Map<string, EmailOrigin>> {
    if (emailIds.length === 0) return new Map();
    return new Map((await this.send<{ origins: Array<[string, EmailOrigin]> }>('POST', account, 'origins/get', { emailIds })).origins);
  }
  async close(): Promise<void> {}
}
