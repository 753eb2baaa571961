/**
 * Public types of the embedded JMAP store: a real JMAP server (RFC 8620 core, RFC 8621 mail) over HTTP,
 * backed by SQLite. The gateway core never imports this module; it talks to it over HTTP.
 */
import type { RequestListener } from 'node:http';

/** Server limits advertised in the `urn:ietf:params:jmap:core` capability (RFC 8620 §2) and enforced. */
export interface EmbeddedLimits {
  /** Largest blob accepted by the upload endpoint, in octets (RFC 8620 §6.1). */
  maxSizeUpload: number;
  /** Concurrent uploads per account. */
  maxConcurrentUpload: number;
  /** Largest API request body, in octets (RFC 8620 §3.6.1 `limit` error). */
  maxSizeRequest: number;
  /** Concurrent API requests per account. */
  maxConcurrentRequests: number;
  /** Method calls in one request (RFC 8620 §3.6.1 `limit` error). */
  maxCallsInRequest: number;
  /** Ids in one /get (RFC 8620 §5.1 `requestTooLarge`). */
  maxObjectsInGet: number;
  /** create + update + destroy in one /set (RFC 8620 §5.3 `requestTooLarge`). */
  maxObjectsInSet: number;
}

export interface EmbeddedStoreOptions {
  /** SQLite file path, or ':memory:'. */
  dbPath: string;
  limits?: Partial<EmbeddedLimits>;
  /** Static bearer token -> username (`Authorization: Bearer <token>`). */
  bearerTokens?: Record<string, string>;
  /** Tests of bearer auth (e.g. JWTs): a token not in `bearerTokens` is given to this; it returns the username or null. */
  verifyBearer?: (token: string) => Promise<string | null>;
}

export interface EmbeddedStore {
  /** The HTTP app's fetch: usable in-process without a socket. */
  fetch(req: Request): Promise<Response>;
  /**
   * The node:http request listener `listen` serves with (same answers as `fetch`; node-http.ts): for a server of
   * one's own, e.g. behind a listener that counts octets (bench/store-child.ts).
   */
  nodeListener(): RequestListener;
  /** Listens on a TCP port (0 = any free port) with `nodeListener()`. */
  listen(port: number, host?: string): Promise<{ url: string; port: number; close(): Promise<void> }>;
  /** Creates a user (one user = one account) with the standard mailboxes (roles inbox, sent, drafts, trash, junk, archive). */
  createUser(username: string, password: string): { accountId: string };
  hasUser(username: string): boolean;
  /**
   * Shares `owner`'s account with `withUser`: `withUser`'s Session then lists it with `isPersonal: false`, named
   * `owner`, `isReadOnly` as given (RFC 8620 §2), and every method with its accountId works for `withUser`; a
   * read-only share answers writes with `accountReadOnly` (RFC 8620 §3.6.2) and gives read-only `myRights`.
   */
  shareAccount(owner: string, withUser: string, opts?: { readOnly?: boolean }): void;
  /**
   * Sets the account's quotas (RFC 9425): `storage` in octets, `messages` a count; null removes a limit, an absent
   * key leaves it. Email/import over a limit is refused with the SetError `overQuota` (RFC 8620 §5.3).
   */
  setQuota(username: string, quota: { storage?: number | null; messages?: number | null }): void;
  /** Stores a raw message (exact bytes) in a mailbox given by role or name. */
  importMessage(username: string, mailbox: string, raw: Uint8Array,
    opts?: { keywords?: string[]; receivedAt?: Date }): { emailId: string; blobId: string };
  /** Creates the demo account with realistic content; idempotent. */
  seedDemo(username: string, password: string): void;
  close(): void;
}
