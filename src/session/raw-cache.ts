/**
 * The raw-message cache: the octets of whole messages, per (account, blobId), kept in memory so that a message read
 * again costs no JMAP download. A blob's octets never change (RFC 8620 §6: blobs are immutable; RFC 8621 §4.1: an
 * Email's blobId is its raw RFC 5322 message and is immutable), so an entry never goes stale; entries only age out,
 * least recently used first, within a byte budget (`--raw-cache-mb`, default 128 MiB per process; 0 turns it off).
 *
 * Why (real users, not only the bench): Apple Mail and iOS fetch BODYSTRUCTURE, then BODY[1], BODY[2]... in
 * separate commands, each of which needs the raw message; Thunderbird without an offline store fetches a message
 * again each time it is opened; a user's phone and laptop both download the same new message. Without this cache each
 * of those is a full blob download (RFC 8620 §6.2) or an RFC 9404 Blob/get from the store.
 *
 * Only whole, verified downloads go in (../session/raw-messages.ts puts them): never a partial or ranged body,
 * never one whose length differs from the Email's `size` (RFC 8621 §4.1.1). Messages over `maxEntry` (default
 * 8 MiB or budget/16, the smaller) are not kept: one big attachment must not flush hundreds of ordinary messages.
 *
 * Keys carry the account's scope (tenant + JMAP accountId + JMAP session URL, see `rawScope`), so tenants and
 * accounts never see each other's entries even if two stores hand out the same blobId. Callers must not modify
 * the arrays they get: the same array is handed to every reader.
 */
import type { MailBackend } from '../backend/backend.ts';
import { ByteLru } from '../cache/lru.ts';

export const MIB = 1024 * 1024;
/** Default budget per process: the bench's 6,046-message mailbox (32 MB) four times over. */
export const DEFAULT_RAW_CACHE_BYTES = 128 * MIB;
/** Largest message kept by default (a smaller budget lowers it to budget/16). */
export const DEFAULT_RAW_ENTRY_BYTES = 8 * MIB;
/** Per-entry bookkeeping counted against the budget besides the octets and the blobId (LRU entry, map slot, array header). */
const ENTRY_OVERHEAD = 96;

export class RawCache {
  private readonly lru: ByteLru<Uint8Array>;
  /** Largest message (octets) this cache keeps. */
  readonly maxEntry: number;

  /** `maxBytes` 0 (or less) keeps nothing: every read goes to the store. */
  constructor(readonly maxBytes = DEFAULT_RAW_CACHE_BYTES, maxEntry?: number) {
    this.lru = new ByteLru(Math.max(0, maxBytes));
    this.maxEntry = Math.max(0, Math.min(maxEntry ?? DEFAULT_RAW_ENTRY_BYTES, Math.floor(maxBytes / 16)));
  }

  get enabled(): boolean {
    return this.maxEntry > 0;
  }

  /** Bytes accounted for (octets + keys + overhead). */
  get bytes(): number {
    return this.lru.bytes;
  }

  get size(): number {
    return this.lru.size;
  }

  /** The raw message of `blobId` in `scope` (marks it recently used), or undefined. */
  get(scope: string, blobId: string): Uint8Array | undefined {
    return this.enabled ? this.lru.get(blobId, scope) : undefined;
  }

  /**
   * Keeps a whole downloaded message. `size` is the Email's RFC 8621 `size` when known: a different length means a
   * truncated or wrong body, not kept. Returns whether it was kept.
   */
  put(scope: string, blobId: string, raw: Uint8Array, size?: number): boolean {
    if (!this.enabled || !blobId || raw.byteLength > this.maxEntry || (size !== undefined && size > 0 && raw.byteLength !== size)) return false;
    // A view into a much larger buffer (e.g. one response holding many messages) would pin all of it: keep a copy.
    const own = raw.buffer.byteLength > raw.byteLength + 4096 ? raw.slice() : raw;
    this.lru.set(blobId, own, own.buffer.byteLength + blobId.length * 2 + ENTRY_OVERHEAD, scope);
    return true;
  }

  clear(): void {
    this.lru.clear();
  }
}

/**
 * The scope of an account's entries (a ByteLru scope: no key string built per lookup): the gateway's account key
 * (tenant + JMAP accountId) and the store's JMAP session URL (RFC 8620 §2), as the keyword cache keys accounts, so
 * two stores behind one tenant never share.
 */
export function rawScope(account: { accountKey: string; backend: MailBackend }): string {
  return `${account.accountKey}\u0000${account.backend.serverInfo().sessionUrl}\u0000`;
}

/** The process-wide instance sessions use when their GatewayConfig names none. */
export const rawCache = new RawCache();
