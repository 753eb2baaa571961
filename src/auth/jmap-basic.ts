/**
 * PLAIN/LOGIN credentials checked by the tenant's JMAP server itself: the user name and password become HTTP
 * Basic auth (RFC 7617) and fetching the JMAP Session resource (RFC 8620 §2) proves them. A 401 is
 * NO [AUTHENTICATIONFAILED]; an unreachable store is NO [UNAVAILABLE].
 */
import { JmapBackend } from '../backend/jmap/backend.ts';
import { JmapClient } from '../backend/jmap/client.ts';
import { basicAuth } from '../backend/jmap/auth.ts';
import type { AccountContext, Authenticator } from '../session/context.ts';
import type { PasswordCredentials } from './sasl.ts';

export interface JmapBasicOptions {
  /** The JMAP Session resource URL (`https://host/.well-known/jmap` or a direct URL). */
  sessionUrl: string;
  /** Tenant id: prefixes the UID store's account key so tenants never share UIDs. */
  tenant: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export function jmapBasicAuthenticator(opts: JmapBasicOptions): Authenticator {
  return {
    async login(creds: PasswordCredentials): Promise<AccountContext> {
      const client = new JmapClient({
        sessionUrl: opts.sessionUrl,
        auth: basicAuth(creds.username, creds.password),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
      const backend = await JmapBackend.connect(client);
      return { username: creds.username, accountKey: `${opts.tenant}/${backend.accountId}`, backend };
    },
  };
}
