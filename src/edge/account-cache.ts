/**
 * A MessageCache (src/cache/message-cache.ts) made of per-account caches, each in its account's Durable Object
 * (do-cache.ts), reached over RPC (rpc-message-cache.ts, the Worker) or HTTP (http-message-cache.ts, Node).
 */
import { entryBytes, type CachedMessage, type MessageCache } from '../cache/message-cache.ts';
import type { ByteLru } from '../cache/lru.ts';

/** Per-account cache operations (the account's object holds that account's entries and byte bound). */
export interface AccountCacheAccess {
  get(account: string, emailIds: string[]): Promise<CachedMessage[]>;
  put(account: string, messages: CachedMessage[], maxBytes: number): Promise<void>;
  size(account: string): Promise<number>;
}

/**
 * A MessageCache over per-account objects; `size()` sums the accounts this instance has used. A cache that cannot
 * be reached is a miss (get) or a no-op (put), reported to `onError`: cached data can always be fetched again, so
 * an unreachable cache never fails a FETCH. An optional local memory tier answers first and asks the objects only
 * for what it lacks (entries never change, RFC 8621 §4.1, so the tiers cannot disagree): a batch over HTTP costs
 * milliseconds, memory microseconds (docs/deployment.md figures).
 */
export class AccountMessageCache implements MessageCache {
  private readonly accounts = new Set<string>();

  constructor(
    private readonly access: AccountCacheAccess,
    private readonly maxBytesPerAccount: number,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly memory?: ByteLru<CachedMessage>,
  ) {}

  async get(account: string, emailIds: string[]): Promise<Map<string, CachedMessage>> {
    const out = new Map<string, CachedMessage>();
    if (emailIds.length === 0) return out;
    this.accounts.add(account);
    for (const id of emailIds) {
      const hit = this.memory?.get(`${account}\u0000${id}`);
      if (hit) out.set(id, hit);
    }
    const missing = out.size === 0 ? emailIds : emailIds.filter((id) => !out.has(id));
    if (missing.length === 0) return out;
    try {
      for (const m of await this.access.get(account, missing)) {
        out.set(m.emailId, m);
        this.memory?.set(`${account}\u0000${m.emailId}`, m, entryBytes(m));
      }
    } catch (err) {
      this.onError(err);
    }
    return out;
  }

  async put(account: string, messages: CachedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.accounts.add(account);
    for (const m of messages) this.memory?.set(`${account}\u0000${m.emailId}`, m, entryBytes(m));
    await this.access.put(account, messages, this.maxBytesPerAccount).catch(this.onError);
  }

  async size(): Promise<number> {
    let total = 0;
    for (const a of this.accounts) total += await this.access.size(a);
    return total;
  }

  async close(): Promise<void> {}
}
