/**
 * SASL mechanisms as pure functions over the client's decoded responses (RFC 9051 §6.2.2, RFC 4422).
 * The session drives the exchange (continuations, `*` cancel, SASL-IR of RFC 4959); this module only
 * understands the bytes of each mechanism.
 */

/** Credentials a mechanism yields, checked by the tenant's authenticator. */
export interface PasswordCredentials {
  /** The identity to act as (RFC 4616 authzid); empty when the same as `username`. */
  authzid: string;
  username: string;
  password: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * RFC 4616 §2 PLAIN: `[authzid] NUL authcid NUL passwd`, each UTF-8 without NUL, authcid and passwd non-empty.
 * Returns null for a malformed message.
 */
export function parsePlain(message: Uint8Array): PasswordCredentials | null {
  const first = message.indexOf(0);
  const second = first < 0 ? -1 : message.indexOf(0, first + 1);
  if (first < 0 || second < 0 || message.indexOf(0, second + 1) >= 0) return null;
  try {
    const authzid = utf8.decode(message.subarray(0, first));
    const username = utf8.decode(message.subarray(first + 1, second));
    const password = utf8.decode(message.subarray(second + 1));
    if (username === '' || password === '') return null;
    return { authzid, username, password };
  } catch {
    return null;
  }
}

/** SASL mechanisms the gateway can run (advertised as AUTH=... only when enabled for the listener). */
export const SASL_MECHANISMS = ['PLAIN'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
