/**
 * PLAIN/LOGIN credentials checked by the tenant's JMAP server itself: the user name and password become HTTP
 * Basic auth (RFC 7617) and fetching the JMAP Session resource (RFC 8620 §2) proves them. A 401 is
 * NO [AUTHENTICATIONFAILED]; an unreachable store is NO [UNAVAILABLE].
 *
 * Sharing (`shareMs`, Node): logins with the same user name and password share one JmapClient + JmapBackend (the
 * parsed session, its limits and the concurrency slots: RFC 8620 §2 `maxConcurrentRequests` is the store's limit
 * for the user, not per connection) for `shareMs` after the session fetch that proved them; a login then costs no
 * request and no per-connection client objects (issue 8: IDLE memory per connection). Like Dovecot's auth cache, a
 * password changed at the store is refused to new logins at the latest `shareMs` later; any 401 the store answers
 * through the shared client ends the sharing at once (and that session gets BYE [AUTHENTICATIONFAILED]). Entries
 * are keyed by a SHA-256 of the credentials, never the password itself. Off (0) by default: in workerd a connection
 * cannot use another connection's I/O objects.
 */
import { JmapBackend } from '../backend/jmap/backend.ts';
import { JmapClient } from '../backend/jmap/client.ts';
import { basicAuth } from '../backend/jmap/auth.ts';
import { jmapFetch } from '../backend/jmap/runtime-fetch.ts';
import type { AccountContext, Authenticator } from '../session/context.ts';
import type { PasswordCredentials } from './sasl.ts';

export interface JmapBasicOptions {
  /** The JMAP Session resource URL (`https://host/.well-known/jmap` or a direct URL). */
  sessionUrl: string;
  /** Tenant id: prefixes the UID store's account key so tenants never share UIDs. */
  tenant: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Milliseconds one proven login's client is shared by later logins with the same credentials; 0 = never. */
  shareMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Shared clients kept at most (the oldest proven go first). */
const MAX_SHARED = 10_000;

interface Shared {
  backend: Promise<JmapBackend>;
  until: number;
}

export function jmapBasicAuthenticator(opts: JmapBasicOptions): Authenticator {
  const shareMs = opts.shareMs ?? 0;
  const now = opts.now ?? Date.now;
  const shared = new Map<string, Shared>();
  const connect = (creds: PasswordCredentials, key: string | null): Promise<JmapBackend> => {
    const inner = opts.fetch ?? jmapFetch; // the global at call time (tests wrap it), or the runtime's faster one
    const client = new JmapClient({
      sessionUrl: opts.sessionUrl,
      auth: basicAuth(creds.username, creds.password),
      fetch: key === null ? inner : async (input, init) => {
        const res = await inner(input, init);
        if (res.status === 401) shared.delete(key); // the store no longer takes these credentials
        return res;
      },
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return JmapBackend.connect(client);
  };
  return {
    async login(creds: PasswordCredentials): Promise<AccountContext> {
      let backend: JmapBackend;
      if (shareMs > 0) {
        const key = await credentialKey(creds);
        let entry = shared.get(key);
        if (!entry || entry.until <= now()) {
          entry = { backend: connect(creds, key), until: now() + shareMs };
          shared.delete(key);
          shared.set(key, entry);
          for (const k of shared.keys()) { if (shared.size <= MAX_SHARED) break; shared.delete(k); }
          const mine = entry;
          mine.backend.catch(() => { if (shared.get(key) === mine) shared.delete(key); });
        }
        backend = await entry.backend;
      } else {
        backend = await connect(creds, null);
      }
      return { username: creds.username, accountKey: `${opts.tenant}/${backend.accountId}`, backend };
    },
  };
}

/** SHA-256 (hex) of the user name and password: the sharing key (Web Crypto: runtime-neutral). */
async function credentialKey(creds: PasswordCredentials): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${creds.username}\u0000${creds.password}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
