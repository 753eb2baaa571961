import { encodeBase64 } from '../../encoding/base64.ts';

/** How the client authenticates to the JMAP server: one `Authorization` header value per request (RFC 8620 §8.2). */
export interface JmapAuth {
  /** The value of the `Authorization` header. Never logged, never put in an error text. */
  header(): Promise<string>;
}

/** HTTP Basic (RFC 7617) with UTF-8 user and password. */
export function basicAuth(user: string, pass: string): JmapAuth {
  const value = `Basic ${encodeBase64(new TextEncoder().encode(`${user}:${pass}`))}`;
  return { header: async () => value };
}

/** Bearer token (RFC 6750), fixed or obtained per request (e.g. refreshed). */
export function bearerAuth(token: string | (() => Promise<string>)): JmapAuth {
  return { header: async () => `Bearer ${typeof token === 'string' ? token : await token()}` };
}
