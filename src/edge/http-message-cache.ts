/**
 * The account caches of the Durable Objects (do-cache.ts) for Node gateways, over the Worker's HTTP API (api.ts):
 * gateways on several machines then share one immutable-data cache per account, beside the shared UID store.
 * Header blocks travel as base64 in JSON (`CachedMessageWire`). One request per batch.
 */
import type { CachedMessage } from '../cache/message-cache.ts';
import { decodeBase64, encodeBase64 } from '../encoding/base64.ts';
import { AccountMessageCache, type AccountCacheAccess } from './account-cache.ts';
import { ByteLru } from '../cache/lru.ts';

/** A CachedMessage on the wire: the header block as base64 (RFC 4648 §4). */
export type CachedMessageWire = Omit<CachedMessage, 'header'> & { header: string };

export const toWire = (m: CachedMessage): CachedMessageWire => ({ ...m, header: encodeBase64(m.header) });

/** The message, or null when a field is missing or mistyped. */
export function fromWire(v: unknown): CachedMessage | null {
  if (typeof v !== 'object' || v === null) return null;
  const w = v as Record<string, unknown>;
  const strings = ['emailId', 'blobId', 'threadId', 'receivedAt'].every((k) => typeof w[k] === 'string' && (w[k] as string).length > 0);
  const header = typeof w.header === 'string' ? decodeBase64(w.header) : null;
  if (!strings || !header || !Number.isSafeInteger(w.size) || (w.size as number) < 0) return null;
  return { emailId: w.emailId as string, blobId: w.blobId as string, threadId: w.threadId as string, size: w.size as number, receivedAt: w.receivedAt as string, header };
}

export interface HttpMessageCacheOptions {
  /** The API's base URL (the Worker's origin). */
  baseUrl: string;
  /** The bearer token the API expects. */
  token: string;
  /** The byte bound of each account's cache (the object evicts least recently used entries beyond it). */
  maxBytesPerAccount?: number;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Told when the API cannot be reached (the cache then misses). */
  onError?: (err: unknown) => void;
  /** The local memory tier in front of the objects (bytes, at most maxBytesPerAccount); default 64 MiB, 0: none. */
  memoryBytes?: number;
}

/** Per-account access over HTTP; errors throw (AccountMessageCache callers see them). */
export function httpCacheAccess(o: HttpMessageCacheOptions): AccountCacheAccess {
  const base = o.baseUrl.replace(/\/+$/, '');
  const fetchFn = o.fetch ?? ((input, init) => fetch(input, init));
  const call = async <T>(method: string, account: string, op: string, json?: unknown): Promise<T> => {
    const res = await fetchFn(`${base}/v1/accounts/${encodeURIComponent(account)}/cache/${op}`, {
      method,
      headers: { Authorization: `Bearer ${o.token}`, ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    if (res.status === 204) return undefined as T;
    if (!res.ok) throw new Error(`message cache API answered HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    async get(account, emailIds) {
      const r = await call<{ messages: unknown[] }>('POST', account, 'get', { emailIds });
      return r.messages.map(fromWire).filter((m): m is CachedMessage => m !== null);
    },
    async put(account, messages, maxBytes) {
      await call('POST', account, 'put', { messages: messages.map(toWire), maxBytes });
    },
    async size(account) {
      return (await call<{ bytes: number }>('GET', account, 'size')).bytes;
    },
  };
}

/** The MessageCache a Node gateway uses with `--do-cache`. */
export class HttpMessageCache extends AccountMessageCache {
  constructor(o: HttpMessageCacheOptions) {
    const max = o.maxBytesPerAccount ?? 64 * 1024 * 1024;
    const memory = Math.min(o.memoryBytes ?? 64 * 1024 * 1024, max);
    super(httpCacheAccess(o), max, o.onError, memory > 0 ? new ByteLru<CachedMessage>(memory) : undefined);
  }
}
