/**
 * The local development issuer of `npm start` (issue #5): an ES256 key pair (RFC 7518 §3.4) made on first start and
 * kept in the data directory (private JWK, file mode 0600), tokens (RFC 7519 JWTs) minted with it, and the tenants
 * document that lets the one default tenant accept PLAIN/LOGIN and OAUTHBEARER/XOAUTH2 (RFC 7628) against that key,
 * as a static JWKS: no network. The embedded JMAP store verifies the same tokens as `Authorization: Bearer`, so the
 * gateway forwards a token to JMAP exactly as it does in production. Never used with a tenants document.
 * ES256 keeps tokens near 350 characters (neomutt refuses tokens over ~500).
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { parseTenants, type TenantsDocument } from '../auth/tenants.ts';
import { tokenVerifier, type TokenVerifier } from '../auth/tokens.ts';

/** `iss` of every dev token (RFC 7519 §4.1.1): a URN, so it does not depend on ports. */
export const DEV_ISSUER = 'urn:imap-jmap-gateway:dev-issuer';
/** `aud` of every dev token (RFC 7519 §4.1.3). */
export const DEV_AUDIENCE = 'imap-gateway';
/** The user is the `sub` claim (RFC 7519 §4.1.2): the demo user name is not an email address. */
export const DEV_USER_CLAIM = 'sub';
/** File in the data directory holding the private JWK (RFC 7517 §4, with `kid` and `alg`). */
export const DEV_KEY_FILE = 'dev-issuer-key.json';
const ALG = 'ES256';

export interface DevIssuer {
  keyPath: string;
  /** The public half (no `d`), as served in the tenant's static JWKS. */
  publicJwk: JWK;
  verifier: TokenVerifier;
  /** A token for `user`, valid `ttlSeconds` from now. */
  mint(user: string, ttlSeconds: number): Promise<string>;
}

/** Reads the key from `dataDir`; with `create`, makes it first when absent. Null when absent and not created. */
export async function loadDevIssuer(dataDir: string, create: boolean): Promise<DevIssuer | null> {
  const keyPath = join(dataDir, DEV_KEY_FILE);
  if (!existsSync(keyPath)) {
    if (!create) return null;
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const full: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALG, use: 'sig' };
    // `wx`: two gateways starting at once never overwrite each other's key (the loser reads the winner's).
    try {
      writeFileSync(keyPath, JSON.stringify(full) + '\n', { mode: 0o600, flag: 'wx' });
      chmodSync(keyPath, 0o600); // whatever the umask
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const full = JSON.parse(readFileSync(keyPath, 'utf8')) as JWK;
  if (full.kty !== 'EC' || full.crv !== 'P-256' || !full.d || !full.kid) throw new Error(`${keyPath}: not an ES256 private JWK`);
  const { d: _d, ...publicJwk } = full;
  const privateKey = await importJWK(full, ALG);
  return {
    keyPath,
    publicJwk,
    verifier: tokenVerifier(devJwtSettings(publicJwk)),
    async mint(user, ttlSeconds) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: ALG, kid: full.kid!, typ: 'JWT' })
        .setSubject(user)
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(privateKey);
    },
  };
}

function devJwtSettings(publicJwk: JWK): Parameters<typeof tokenVerifier>[0] {
  return { issuer: DEV_ISSUER, audiences: [DEV_AUDIENCE], algorithms: [ALG], jwks: { keys: [publicJwk] }, userClaim: DEV_USER_CLAIM };
}

/**
 * One tenant, the default: the given JMAP store, PLAIN + LOGIN + OAUTHBEARER + XOAUTH2 (tenantMechanisms' default
 * with `jwt`), tokens of the dev issuer. Its id is the `--tenant` id, so UID-store keys stay those of a password login.
 */
export function devIssuerTenants(issuer: DevIssuer, tenantId: string, jmapSessionUrl: string): TenantsDocument {
  return parseTenants({ defaultTenant: tenantId, tenants: [{ id: tenantId, jmapSessionUrl, jwt: devJwtSettings(issuer.publicJwk) }] });
}

/** The embedded store's `verifyBearer`: the user name of a valid dev token, else null. */
export function devBearerCheck(issuer: DevIssuer): (token: string) => Promise<string | null> {
  return async (token) => {
    try {
      return (await issuer.verifier.verify(token)).username;
    } catch {
      return null;
    }
  };
}
