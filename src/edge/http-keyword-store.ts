/**
 * The keyword and UNSEEN count stores of the accounts' Durable Objects (do-keyword-store.ts) for Node gateways
 * (`--do-cache`), over the Worker's HTTP API (api.ts): a restarted gateway, or another one, starts from the
 * account's stored keywords. JSON in and out, one request per call; an unreachable API or an error status rejects
 * (the keyword cache then keeps to memory, STATUS counts again). The wire checks below are the API's too.
 */
import type { KeywordWrite, UnseenCount } from '../cache/keyword-store.ts';
import { AccountKeywordStore, AccountUnseenCountStore, type KeywordAccess, type KeywordStores } from './account-keywords.ts';
import type { KeywordSnapshotWire } from './do-keyword-store.ts';

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStateOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** A KeywordWrite as JSON gives it (`set` as [emailId, keywords] pairs); false when a field is missing or mistyped. */
export function isKeywordWrite(v: unknown): v is KeywordWrite {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return isStateOrNull(w.from) && isStateOrNull(w.state)
    && (w.reset === undefined || typeof w.reset === 'boolean')
    && (w.drop === undefined || isStrings(w.drop))
    && (w.set === undefined || (Array.isArray(w.set) && w.set.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && isStrings(p[1]))));
}

/** An UNSEEN count (RFC 9051 §6.3.11) at an Email state. */
export function isUnseenCount(v: unknown): v is UnseenCount {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return Number.isSafeInteger(c.count) && (c.count as number) >= 0 && typeof c.emailState === 'string';
}

/** A snapshot as the API sends it, or null when malformed. */
function snapshotWire(v: unknown): KeywordSnapshotWire | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Record<string, unknown>;
  const ok = typeof s.state === 'string' && Array.isArray(s.groups)
    && s.groups.every((g) => Array.isArray(g) && g.length === 2 && isStrings(g[0]) && isStrings(g[1]));
  return ok ? (s as unknown as KeywordSnapshotWire) : null;
}

export interface HttpKeywordStoreOptions {
  /** The API's base URL (the Worker's origin). */
  baseUrl: string;
  /** The bearer token the API expects. */
  token: string;
  fetch?: typeof fetch;
  /** Per-request timeout (ms); default 10000. */
  timeoutMs?: number;
}

export function httpKeywordAccess(o: HttpKeywordStoreOptions): KeywordAccess {
  const base = o.baseUrl.replace(/\/+$/, '');
  const fetchFn = o.fetch ?? ((input, init) => fetch(input, init));
  const call = async <T>(account: string, op: string, json: unknown): Promise<T> => {
    const res = await fetchFn(`${base}/v1/accounts/${encodeURIComponent(account)}/${op}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${o.token}`, 'Content-Type': 'application/json' },
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      body: JSON.stringify(json),
    });
    if (res.status === 204) return undefined as T;
    if (!res.ok) throw new Error(`keyword store API answered HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    async load(account, key) {
      const { snapshot } = await call<{ snapshot: unknown }>(account, 'keywords/load', { key });
      if (snapshot === null) return null;
      const w = snapshotWire(snapshot);
      if (!w) throw new Error('keyword store API sent a malformed snapshot');
      return w;
    },
    async write(account, key, w, maxRows) {
      await call(account, 'keywords/write', { key, write: w, maxRows });
    },
    async unseenGet(account, key) {
      const { count } = await call<{ count: unknown }>(account, 'unseen/get', { key });
      return isUnseenCount(count) ? { count: count.count, emailState: count.emailState } : null;
    },
    async unseenSet(account, key, count, max) {
      await call(account, 'unseen/set', { key, count, max });
    },
  };
}

/** The stores a Node gateway with `--do-cache` puts on its message cache (writes of one key sent in order). */
export function httpKeywordStores(o: HttpKeywordStoreOptions): KeywordStores {
  const access = httpKeywordAccess(o);
  return { keywords: new AccountKeywordStore(access, true), unseenCounts: new AccountUnseenCountStore(access) };
}
