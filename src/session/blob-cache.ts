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
import { asciiLower } from '../backend/mime/header.ts';

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
    return this.lru.get(blobId, accountKey);
  }

  /** Merges `patch` into the blob's entry and evicts least recently used entries over the budget. */
  put(accountKey: string, blobId: string, patch: BlobDerived): void {
    const value = { ...this.lru.get(blobId, accountKey), ...patch };
    this.lru.set(blobId, value, keyBytes(accountKey, blobId) + weigh(value), accountKey);
  }

  clear(): void {
    this.lru.clear();
  }
}

/** The weight of an entry's key: as if `${scope}\0${id}` (the scope string itself is shared by its entries). */
function keyBytes(scope: string, id: string): number {
  return (scope.length + 1 + id.length) * 2;
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

/**
 * BODY[HEADER.FIELDS (...)] answers per (account, blobId, field list): a folder listing asks every message for the
 * same list again and again, and the answer is as immutable as the blob. Bounded (16 MiB per process: a 6,000-
 * message listing's subsets take ~3 MB), least recently used out. Saves re-parsing and re-assembling each header
 * block on every warm listing (docs/bench/profile.md).
 */
export class HeaderSubsetCache {
  private readonly lru: ByteLru<Uint8Array>;
  private readonly scopes = new Map<string, string>();

  constructor(readonly maxBytes = 16 * 1024 * 1024) {
    this.lru = new ByteLru(maxBytes);
  }

  /**
   * The scope of one (account, field list, NOT) combination, to compute once per command and pass to `get`/`put`:
   * `fields` as the client named them (case-folded here).
   */
  scope(accountKey: string, fields: readonly string[], not: boolean): string {
    const scope = `${accountKey}\u0000${not ? '!' : ''}${fieldsKey(fields)}`;
    // The same string object every time: lookups then compare keys by identity, not by their ~200 characters.
    const known = this.scopes.get(scope);
    if (known !== undefined) return known;
    if (this.scopes.size >= 1_000) this.scopes.clear();
    this.scopes.set(scope, scope);
    return scope;
  }

  /** The cached subset of the blob for a `scope()`, or undefined. */
  get(scope: string, blobId: string): Uint8Array | undefined {
    return this.lru.get(blobId, scope);
  }

  put(scope: string, blobId: string, value: Uint8Array): void {
    this.lru.set(blobId, value, keyBytes(scope, blobId) + value.length + 48, scope);
  }

  clear(): void {
    this.lru.clear();
  }
}

export const headerSubsetCache = new HeaderSubsetCache();

/** The case-folded key of a field list, computed once per list (one command asks every message with the same array). */
const fieldKeys = new WeakMap<readonly string[], string>();
function fieldsKey(fields: readonly string[]): string {
  let k = fieldKeys.get(fields);
  if (k === undefined) fieldKeys.set(fields, (k = asciiLower(fields.join('\u0000'))));
  return k;
}
