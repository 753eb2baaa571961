/**
 * SASL mechanisms as pure functions over the client's decoded responses (RFC 9051 §6.2.2, RFC 4422).
 * The session drives the exchange (continuations, `*` cancel, SASL-IR of RFC 4959); this module only
 * understands the bytes of each mechanism.
 */
import type { Authenticator, ConnectionFacts } from '../session/context.ts';

/** Credentials a mechanism yields, checked by the tenant's authenticator. */
export interface PasswordCredentials {
  /** The identity to act as (RFC 4616 authzid); empty when the same as `username`. */
  authzid: string;
  username: string;
  password: string;
  /** The mechanism used; the LOGIN command counts as PLAIN (both send the password itself). */
  mechanism?: 'PLAIN' | 'LOGIN';
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

/** The two challenges of the LOGIN mechanism (draft-murchison-sasl-login §2): "Username:" and "Password:". */
export const LOGIN_CHALLENGES = ['Username:', 'Password:'] as const;

/** One LOGIN step's response: UTF-8 text without NUL, or null when malformed. */
export function parseLoginStep(message: Uint8Array): string | null {
  if (message.indexOf(0) >= 0) return null;
  try {
    return utf8.decode(message);
  } catch {
    return null;
  }
}

/** What a bearer-token mechanism (OAUTHBEARER, XOAUTH2) yields. */
export interface BearerCredentials {
  /** RFC 7628 §3.1 gs2-header `a=` authzid, or XOAUTH2 `user=`; empty when absent. */
  authzid: string;
  /** The token of `auth=Bearer <token>` (RFC 6750 §2.1 b64token); '' when none was given. Never logged. */
  token: string;
  /** RFC 7628 §3.1 `host` / `port` kvpairs, when the client sent them. */
  host?: string;
  port?: number;
  mechanism?: 'OAUTHBEARER' | 'XOAUTH2';
}

/** RFC 7628 §3.1 `auth` value: `Bearer` SP b64token (scheme case-insensitive, RFC 6750 §2.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** RFC 7628 §3.1 kvpairs: `key=value` each followed by ^A, the list ended by a second ^A. */
function parseKvpairs(text: string): Map<string, string> | null {
  if (!text.endsWith('\x01\x01')) return null;
  const pairs = new Map<string, string>();
  for (const kv of text.slice(0, -2).split('\x01')) {
    const eq = kv.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z]+$/.test(kv.slice(0, eq)) || pairs.has(kv.slice(0, eq))) return null;
    pairs.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return pairs;
}

/**
 * The token of the `auth` pair; '' when `auth` is there but holds no bearer token (RFC 7628 §4.3: an empty
 * `auth=` asks for the error challenge, to learn the scope); null when there is no `auth` at all.
 */
function bearerOf(pairs: Map<string, string>): string | null {
  const auth = pairs.get('auth');
  return auth === undefined ? null : (BEARER.exec(auth)?.[1] ?? '');
}

/** RFC 5801 §4 saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is malformed. */
function unescapeSaslname(text: string): string | null {
  if (/=(?!2C|3D)/.test(text)) return null;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * RFC 7628 §3.1 client initial response: `gs2-header ^A kvpairs ^A`, where the gs2 header is `n,` or `y,`
 * (no channel binding; `p=` is refused) followed by an optional `a=authzid` and `,`. Null when malformed.
 */
export function parseOAuthBearer(message: Uint8Array): BearerCredentials | null {
  let text: string;
  try {
    text = utf8.decode(message);
  } catch {
    return null;
  }
  const gs2 = /^([ny]),(?:a=([^,]*))?,\x01/.exec(text);
  if (!gs2) return null;
  const authzid = gs2[2] === undefined ? '' : unescapeSaslname(gs2[2]);
  const pairs = parseKvpairs(text.slice(gs2[0].length));
  if (authzid === null || pairs === null) return null;
  const token = bearerOf(pairs);
  if (token === null) return null;
  const port = pairs.get('port');
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return null;
  return { authzid, token, ...(pairs.has('host') ? { host: pairs.get('host')! } : {}), ...(port ? { port: Number(port) } : {}) };
}

/** XOAUTH2 (Google / Microsoft): `user=<user> ^A auth=Bearer <token> ^A ^A`. Null when malformed. */
export function parseXOAuth2(message: Uint8Array): BearerCredentials | null {
  let text: string;
  try {
    text = utf8.decode(message);
  } catch {
    return null;
  }
  const pairs = parseKvpairs(text);
  const token = pairs && bearerOf(pairs);
  const user = pairs?.get('user');
  if (token === null || token === undefined || !user) return null;
  return { authzid: user, token };
}

/** RFC 7628 §3.2.2 error: what the failure challenge tells the client. */
export interface OAuthError {
  /** RFC 7628 §3.2.2 / RFC 6749 §5.2 status, e.g. `invalid_token`, `invalid_request`. */
  status: string;
  /** Scope the client should request (RFC 7628 §3.2.2 `scope`). */
  scope?: string;
  /** OpenID discovery URL of the issuer (RFC 7628 §3.2.2 `openid-configuration`). */
  openidConfiguration?: string;
}

/** RFC 7628 §3.2.2 server error challenge (JSON) for OAUTHBEARER. */
export function oauthBearerChallenge(e: OAuthError): Uint8Array {
  const body: Record<string, string> = { status: e.status };
  if (e.scope) body.scope = e.scope;
  if (e.openidConfiguration) body['openid-configuration'] = e.openidConfiguration;
  return new TextEncoder().encode(JSON.stringify(body));
}

/** The XOAUTH2 error challenge as Google sends it: `{"status":"401","schemes":"Bearer","scope":...}`. */
export function xoauth2Challenge(e: OAuthError): Uint8Array {
  const body: Record<string, string> = { status: e.status === 'invalid_token' ? '401' : '400', schemes: 'Bearer' };
  if (e.scope) body.scope = e.scope;
  return new TextEncoder().encode(JSON.stringify(body));
}

/** SASL mechanisms the gateway can run (advertised as AUTH=... only when enabled for the listener). */
export const SASL_MECHANISMS = ['PLAIN', 'LOGIN', 'OAUTHBEARER', 'XOAUTH2'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
export const PASSWORD_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'LOGIN'];
export const BEARER_MECHANISMS: readonly SaslMechanism[] = ['OAUTHBEARER', 'XOAUTH2'];

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

/** What a connection is offered: the authenticator's choice, else PLAIN and LOGIN (+ bearer ones it can verify). */
export function offeredMechanisms(a: Authenticator, c: ConnectionFacts): readonly SaslMechanism[] {
  return a.mechanisms?.(c) ?? (a.loginBearer ? SASL_MECHANISMS : PASSWORD_MECHANISMS);
}
