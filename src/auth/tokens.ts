/**
 * Bearer-token (JWT, RFC 7519) verification per tenant with jose, for OAUTHBEARER (RFC 7628) and XOAUTH2.
 * Only asymmetric signatures are accepted: a symmetric algorithm (HS*) could be "verified" with the issuer's public
 * key as the HMAC secret, and `none` (RFC 7519 §6) has no signature at all. Keys come from the issuer's JWKS URL
 * (fetched with web `fetch`, cached, refetched on an unknown `kid` at most once per cooldown) or from static JWKs.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose';

/** RFC 7518 §3.1 / RFC 8037 asymmetric JWS algorithms: the only ones a tenant may allow. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** A tenant's token rules (schema/tenants.schema.json `jwt`). */
export interface JwtSettings {
  /** Expected `iss` (RFC 7519 §4.1.1), exactly. */
  issuer: string;
  /** Accepted `aud` values (RFC 7519 §4.1.3): the token must name at least one. */
  audiences: string[];
  /** Allowed `alg` values; default RS256 and ES256. */
  algorithms?: AsymmetricAlgorithm[];
  /** The issuer's JWKS (RFC 7517 §5) URL; or `jwks` below. */
  jwksUrl?: string;
  /** Static keys (public JWKs only). */
  jwks?: { keys: JWK[] };
  /** Tolerance for `exp` / `nbf` / `iat`, in seconds; default 60. */
  clockSkewSeconds?: number;
  /** Claims that must be present besides `iss`, `aud`, `exp` and the user claim. */
  requiredClaims?: string[];
  /** The claim that names the user (`email`, `sub`, `preferred_username`, ...); default `email`. */
  userClaim?: string;
  /** Minimum seconds between JWKS refetches triggered by an unknown `kid`; default 30. */
  jwksCooldownSeconds?: number;
  /** How long a fetched JWKS is trusted without refetching, in seconds; default 600. */
  jwksMaxAgeSeconds?: number;
  /** RFC 7628 §3.2.2 hints sent in the error challenge. */
  scope?: string;
  openidConfiguration?: string;
}

/** Why a token was refused: for the audit log (never the token) and the RFC 7628 status. */
export type TokenFailure = 'expired' | 'not-yet-valid' | 'claims' | 'signature' | 'algorithm' | 'unknown-key' | 'malformed' | 'no-user' | 'jwks-unavailable';

export class TokenRejected extends Error {
  constructor(readonly reason: TokenFailure, detail: string) {
    super(detail);
  }
}

export interface VerifiedToken {
  username: string;
  issuer: string;
}

export interface TokenVerifier {
  /** Verify signature, algorithm, issuer, audience, lifetime and claims; throws `TokenRejected`. */
  verify(token: string): Promise<VerifiedToken>;
}

export function tokenVerifier(s: JwtSettings, fetchImpl?: typeof fetch): TokenVerifier {
  const algorithms = [...(s.algorithms ?? ['RS256', 'ES256'])];
  if (algorithms.some((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a))) {
    throw new Error(`jwt.algorithms: only asymmetric algorithms are allowed (${ASYMMETRIC_ALGORITHMS.join(', ')})`);
  }
  const userClaim = s.userClaim ?? 'email';
  const keys: JWTVerifyGetKey = s.jwksUrl
    ? createRemoteJWKSet(new URL(s.jwksUrl), {
        cooldownDuration: (s.jwksCooldownSeconds ?? 30) * 1000,
        cacheMaxAge: (s.jwksMaxAgeSeconds ?? 600) * 1000,
        timeoutDuration: 5000,
        ...(fetchImpl ? { [customFetch]: fetchImpl } : {}),
      })
    : createLocalJWKSet(publicOnly(s.jwks ?? { keys: [] }));
  const requiredClaims = [...new Set(['iss', 'aud', 'exp', userClaim, ...(s.requiredClaims ?? [])])];
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: s.issuer,
          audience: s.audiences,
          algorithms,
          clockTolerance: s.clockSkewSeconds ?? 60,
          requiredClaims,
        });
        const user = payload[userClaim];
        if (typeof user !== 'string' || user === '') throw new TokenRejected('no-user', `claim ${userClaim} is not a non-empty string`);
        return { username: user, issuer: s.issuer };
      } catch (err) {
        throw classify(err);
      }
    },
  };
}

/** Static keys must be public: a private or symmetric (`oct`) key in the configuration is a mistake. */
function publicOnly(jwks: { keys: JWK[] }): { keys: JWK[] } {
  for (const k of jwks.keys) {
    if (k.kty === 'oct' || k.d !== undefined) throw new Error('jwt.jwks: only public keys (RSA, EC, OKP without "d") are allowed');
  }
  return jwks;
}

/** jose's error classes -> our reasons. Network and JWKS errors fail closed as `jwks-unavailable`. */
function classify(err: unknown): TokenRejected {
  if (err instanceof TokenRejected) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.JWTExpired) return new TokenRejected('expired', msg);
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejected(err.claim === 'nbf' ? 'not-yet-valid' : 'claims', msg);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new TokenRejected('algorithm', msg);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenRejected('signature', msg);
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new TokenRejected('unknown-key', msg);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new TokenRejected('malformed', msg);
  return new TokenRejected('jwks-unavailable', msg);
}
