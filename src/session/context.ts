/**
 * What a session is given: the connection facts, the gateway configuration, and (after login) the account.
 * Runtime-neutral: the Node and workerd entry points build these.
 */
import type { MailBackend } from '../backend/backend.ts';
import type { Limits } from '../protocol/limits.ts';
import type { UidStore } from '../uidmap/store.ts';
import type { BearerCredentials, OAuthError, PasswordCredentials, SaslMechanism } from '../auth/sasl.ts';
import type { AuthThrottle } from '../auth/throttle.ts';
import type { ChangeHub } from './watch.ts';
import type { MessageCache } from '../cache/message-cache.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import type { AccountPolicy } from './policy.ts';
import type { RawCache } from './raw-cache.ts';

/** Facts about the client connection (RFC 9051 §6.2: what decides LOGINDISABLED and STARTTLS). */
export interface ConnectionFacts {
  id: number;
  remoteAddress: string;
  /** TLS is active now (implicit TLS, or after STARTTLS). */
  tls: boolean;
  /** STARTTLS can be offered on this connection. */
  starttls: boolean;
  /** TLS SNI server name the client asked for (RFC 6066 §3), when known: the first tenant selector. */
  serverName?: string;
}

/** A logged-in user's mail account (after LOGIN / AUTHENTICATE). */
export interface AccountContext {
  /** The name the user logged in with. */
  username: string;
  /** Key of this account in the UID store: tenant + JMAP accountId, so tenants never share UIDs. */
  accountKey: string;
  backend: MailBackend;
  /** The tenant's mapping choices (copy semantics, TEXT/BODY search), when its configuration sets any. */
  policy?: AccountPolicy;
}

/** Checks credentials and opens the account's backend; throws `ImapError` (NO [AUTHENTICATIONFAILED], NO [UNAVAILABLE]). */
export interface Authenticator {
  login(credentials: PasswordCredentials, connection?: ConnectionFacts): Promise<AccountContext>;
  /**
   * OAUTHBEARER / XOAUTH2 (RFC 7628): verify the token and open the account with it. A refused token throws
   * `BearerRejected` (its RFC 7628 §3.2.2 error goes to the client in the failure challenge).
   */
  loginBearer?(credentials: BearerCredentials, connection: ConnectionFacts): Promise<AccountContext>;
  /** SASL mechanisms offered on this connection; default PLAIN and LOGIN (plus the bearer ones with `loginBearer`). */
  mechanisms?(connection: ConnectionFacts): readonly SaslMechanism[];
}

/** A bearer token refused (RFC 7628 §3.2.2): the session sends `error` as the challenge, then NO [AUTHENTICATIONFAILED]. */
export class BearerRejected extends Error {
  constructor(readonly error: OAuthError) {
    super('Authentication failed');
  }
}

/** Minimal structured logger (pino-compatible). Never pass credentials, tokens or message content. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface GatewayConfig {
  authenticator: Authenticator;
  uidStore: UidStore;
  limits: Limits;
  logger: Logger;
  /** Delay before answering a failed authentication (RFC 9051 §6.2.3 suggests slowing down guessing). */
  authFailureDelayMs: number;
  /** Failed-auth throttling per user and per IP (growing delay, then a temporary IP block); none when absent. */
  throttle?: AuthThrottle;
  /**
   * Treat connections from loopback addresses as secure (credentials allowed without TLS), as Dovecot does.
   * Must be false behind a TLS terminator or PROXY protocol, where the loopback peer says nothing of the client.
   */
  loopbackIsSecure: boolean;
  /** Allow plaintext LOGIN/AUTHENTICATE on cleartext connections anyway (tests, trusted networks). */
  allowCleartextAuth: boolean;
  /** RFC 9051 §5.4 autologout: at least 30 minutes once authenticated; shorter before. */
  idleTimeoutMs: number;
  preAuthTimeoutMs: number;
  /**
   * Where header blocks come from on a cache miss: `jmap` rebuilds them from JMAP's `headers` (no download when all
   * values are 7-bit); `raw` always downloads the message. Use `raw` for a server whose `headers` may silently leave
   * fields out (Cyrus 3.6 omits fields whose value is not valid UTF-8, against RFC 8621 §4.1.3). Default `jmap`.
   */
  headerSource?: 'jmap' | 'raw';
  /** Default mapping choices for accounts whose tenant sets none (policy.ts; Node `--copy-semantics`, `--search-text`). */
  policy?: AccountPolicy;
  /** Immutable per-message data (header blocks, sizes, dates) kept across sessions (DESIGN.md rule 9). */
  messageCache?: MessageCache;
  /**
   * Whole raw messages per (account, blobId) kept in memory (raw-cache.ts; Node `--raw-cache-mb`): a message read
   * again costs no download. When absent: the process-wide `rawCache` (128 MiB); a runtime with a small memory limit
   * (a Worker isolate) passes a smaller one, or `new RawCache(0)` for none.
   */
  rawCache?: RawCache;
  /** Connections per client address and per user; none counted when absent. */
  connectionLimits?: ConnectionLimits;
  /** Push/poll watchers shared by the sessions of each account (IDLE). */
  changeHub: ChangeHub;
  /** Server name and version for the greeting and ID (RFC 2971). */
  serverName: string;
  serverVersion: string;
}

export const DEFAULT_TIMEOUTS = {
  /** RFC 9051 §5.4: "at least 30 minutes"; clients refresh IDLE every 29 minutes. */
  idleTimeoutMs: 31 * 60_000,
  preAuthTimeoutMs: 60_000,
  authFailureDelayMs: 2_000,
} as const;
