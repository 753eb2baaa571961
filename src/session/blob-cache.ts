/**
 * The blob-derived cache (DESIGN.md rule 9): what the gateway computes from a raw message (ENVELOPE,
 * BODYSTRUCTURE, BODY, the JMAP preview), kept per (account, blobId). A blob's octets never change (RFC 8620
 * §6: blobs are immutable; RFC 8621 §4.1: an Email's blobId, headers and everything derived from them are
 * immutable), so entries never go stale and need no invalidation; they only age out.
 *
 * Bounded by an estimate of the bytes its entries hold (`maxBytes`, default 32 MiB per process), least recently
 * used first out. The key includes the account key (tenant + JMAP accountId), so accounts and tenants never see
 * each other's entries even if two stores hand out the same blobId. One instance per process (`blobCache`),
 * shared by every session: a second client listing the same folder costs no blob download.
 */
import type { Envelope, Value } from '../protocol/types.ts';
import { ByteLru } from '../cache/lru.ts';

/** What is cached for one blob; each member is filled when first computed. */
export interface BlobDerived {
  envelope?: Envelope;
  /** RFC 9051 §7.5.2 BODYSTRUCTURE (extended) value. */
  bodystructure?: Value;
  /** RFC 9051 §7.5.2 BODY (non-extensible) value. */
  body?: Value;
  /** RFC 8621 §4.1.4 `preview` (RFC 8970 PREVIEW). */
  preview?: string;
}

/** Default budget: a few hundred thousand envelopes + structures. */
export const DEFAULT_BLOB_CACHE_BYTES = 32 * 1024 * 1024;

export class BlobCache {
  private readonly lru: ByteLru<BlobDerived>;

  constructor(readonly maxBytes = DEFAULT_BLOB_CACHE_BYTES) {
    this.lru = new ByteLru(maxBytes);
  }

  /** Bytes currently accounted for (an estimate: UTF-16 string lengths plus per-node overhead). */
  get bytes(): number {
    return this.lru.bytes;
  }

  get size(): number {
    return this.lru.size;
  }

  /** The cached derivations of a blob (marks it recently used), or undefined. */
  get(accountKey: string, blobId: string): BlobDerived | undefined {
    return this.lru.get(cacheKey(accountKey, blobId));
  }

  /** Merges `patch` into the blob's entry and evicts least recently used entries over the budget. */
  put(accountKey: string, blobId: string, patch: BlobDerived): void {
    const key = cacheKey(accountKey, blobId);
    const value = { ...this.lru.get(key), ...patch };
    this.lru.set(key, value, key.length * 2 + weigh(value));
  }

  clear(): void {
    this.lru.clear();
  }
}

function cacheKey(accountKey: string, blobId: string): string {
  return `${accountKey}\u0000${blobId}`;
}

/** Rough memory weight of a cached value: 2 bytes per string char, 8 per number/null, 16 per node. */
function weigh(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return 8;
  if (typeof v === 'string') return 16 + v.length * 2;
  if (v instanceof Uint8Array) return 16 + v.length;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + weigh(x), 16);
  return Object.values(v as Record<string, unknown>).reduce((n: number, x) => n + weigh(x), 16);
}

/** The process-wide instance the FETCH handler uses. */
export const blobCache = new BlobCache();
