/**
 * Raw messages (RFC 8621 §4.1.1 `blobId`) for the commands that need whole messages: FETCH of body content and
 * SEARCH / SORT / THREAD keys decided from the message text. Where the store offers RFC 9404 `Blob/get`
 * (MailBackend.downloadBlobs), messages up to GET_MAX_EACH octets travel in groups of at most GET_GROUP_BYTES per
 * request, GROUPS_IN_FLIGHT at once; the rest (bigger, or not returned) are downloaded one by one (RFC 8620 §6.2),
 * CONCURRENCY at a time. Each message is handed to `use` as it arrives, so the caller bounds what it keeps.
 * Messages in the raw-message cache (./raw-cache.ts) are handed over first, with no request; whole downloads are put
 * in it.
 */
import type { MailBackend } from '../backend/backend.ts';
import type { AccountContext, GatewayConfig } from './context.ts';
import { rawCache, rawScope, type RawCache } from './raw-cache.ts';

export const GET_MAX_EACH = 1 << 20;
export const GET_GROUP_BYTES = 8 << 20;
export const GROUPS_IN_FLIGHT = 2;
export const CONCURRENCY = 4;

/** What a download needs of a message: its blob and its size (JMAP `size`, the blob's octets). */
export interface BlobRef {
  blobId: string;
  size: number;
}

/** Where raw messages come from: the account (its store and cache scope) and the raw-message cache to use. */
export interface RawSource {
  account: Pick<AccountContext, 'accountKey' | 'backend'>;
  /** GatewayConfig.rawCache: the process-wide `rawCache` when undefined. */
  cache?: RawCache | undefined;
}

/** The raw source of a logged-in session. */
export function rawSourceOf(s: { account: AccountContext | null; config: Pick<GatewayConfig, 'rawCache'> }): RawSource {
  return { account: s.account!, cache: s.config.rawCache };
}

/**
 * Hands the raw message of every item to `use`, cached ones first; order is not kept. A bare backend (no account
 * scope) reads through no cache.
 */
export async function forEachRaw<T extends BlobRef>(from: RawSource | MailBackend, items: readonly T[], use: (item: T, raw: Uint8Array) => void): Promise<void> {
  const source = typeof (from as MailBackend).downloadBlob === 'function' ? null : from as RawSource;
  const backend = source ? source.account.backend : from as MailBackend;
  const cache = source ? (source.cache ?? rawCache) : undefined;
  let rest: T[] = [];
  let got = use;
  if (source && cache?.enabled) {
    const scope = rawScope(source.account);
    for (const m of items) {
      const raw = cache.get(scope, m.blobId);
      if (raw) use(m, raw);
      else rest.push(m);
    }
    got = (m, raw) => { cache.put(scope, m.blobId, raw, m.size); use(m, raw); };
  } else rest = [...items];
  await download(backend, rest, got);
}

/** The JMAP part: RFC 9404 Blob/get groups where offered, then one RFC 8620 §6.2 download per message left. */
async function download<T extends BlobRef>(backend: MailBackend, items: readonly T[], use: (item: T, raw: Uint8Array) => void): Promise<void> {
  let rest: T[] = [...items];
  if (backend.downloadBlobs && items.length > 1) {
    const groups: T[][] = [];
    let group: T[] = [];
    let bytes = 0;
    for (const m of items) {
      if (m.size > GET_MAX_EACH) continue;
      if (group.length > 0 && bytes + m.size > GET_GROUP_BYTES) { groups.push(group); group = []; bytes = 0; }
      group.push(m);
      bytes += m.size;
    }
    if (group.length > 0) groups.push(group);
    const got = new Set<T>();
    const worker = async (): Promise<void> => {
      for (let g = groups.shift(); g; g = groups.shift()) {
        const data = await backend.downloadBlobs!(g.map((m) => m.blobId));
        for (const m of g) {
          const raw = data.get(m.blobId);
          if (raw) { got.add(m); use(m, raw); }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GROUPS_IN_FLIGHT, groups.length) }, worker));
    rest = rest.filter((m) => !got.has(m));
  }
  const worker = async (): Promise<void> => {
    for (let m = rest.shift(); m; m = rest.shift()) use(m, await backend.downloadBlob(m.blobId));
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rest.length) }, worker));
}
