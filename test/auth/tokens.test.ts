/**
 * JWT validation per tenant (issue 5 "token attacks"): each forged, stale or misdirected token is refused, a good
 * one names its user, a key rotated at the issuer is picked up by one JWKS refetch, and an unreachable JWKS fails
 * closed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSPKI, importJWK, SignJWT } from 'jose';
import { tokenVerifier, TokenRejected, type JwtSettings, type TokenFailure } from '../../src/auth/tokens.ts';
import { b64url, makeKey, mint, serveJwks, type JwksServer, type TestKey } from '../helpers/oauth.ts';

const ISS = 'https://id.a.example';
const AUD = 'imap-gateway';
let key1: TestKey;
let key2: TestKey;
let other: TestKey;
let jwks: JwksServer;

before(async () => {
  [key1, key2, other] = await Promise.all([makeKey('k1'), makeKey('k2', 'ES256'), makeKey('k1')]);
  jwks = await serveJwks([key1.publicJwk]);
});
after(() => jwks.close());

const settings = (extra: Partial<JwtSettings> = {}): JwtSettings => ({ issuer: ISS, audiences: [AUD, 'other-aud'], jwksUrl: jwks.url, ...extra });
const good = (claims: Record<string, unknown> = { email: 'alice@a.example' }) => mint(key1, { iss: ISS, aud: AUD, claims });

async function reason(verify: Promise<unknown>): Promise<TokenFailure | 'accepted'> {
  try {
    await verify;
    return 'accepted';
  } catch (err) {
    assert.ok(err instanceof TokenRejected, String(err));
    return err.reason;
  }
}

test('a good token names its user (email by default, or the configured claim)', async () => {
  const v = tokenVerifier(settings());
  assert.deepEqual(await v.verify(await good()), { username: 'alice@a.example', issuer: ISS });
  const bySub = tokenVerifier(settings({ userClaim: 'sub' }));
  assert.equal((await bySub.verify(await good({ sub: 'u-42', email: 'x@a.example' }))).username, 'u-42');
});

test('token attacks are refused', async () => {
  const v = tokenVerifier(settings({ requiredClaims: ['iat'] }));
  const token = await good();
  const [h, p, sig] = token.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const pem = await exportSPKI((await importJWK(key1.publicJwk, 'RS256')) as CryptoKey);
  const cases: Array<[string, Promise<string> | string, TokenFailure]> = [
    ['alg none', `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`, 'algorithm'],
    ['HS256 signed with the RSA public key as secret',
      new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(pem)), 'algorithm'],
    ['expired (beyond the clock skew)', mint(key1, { iss: ISS, aud: AUD, claims: { email: 'a@a.example' }, exp: -120 }), 'expired'],
    ['not yet valid', mint(key1, { iss: ISS, aud: AUD, claims: { email: 'a@a.example' }, nbf: 3600 }), 'not-yet-valid'],
    ['wrong audience', mint(key1, { iss: ISS, aud: 'someone-else', claims: { email: 'a@a.example' } }), 'claims'],
    ['wrong issuer', mint(key1, { iss: 'https://evil.example', aud: AUD, claims: { email: 'a@a.example' } }), 'claims'],
    ['signed by another key with the same kid', mint(other, { iss: ISS, aud: AUD, claims: { email: 'a@a.example' } }), 'signature'],
    ['tampered payload', `${h}.${b64url(JSON.stringify({ ...payload, email: 'mallory@a.example' }))}.${sig}`, 'signature'],
    ['no user claim', good({ sub: 'x' }), 'claims'],
    ['user claim not a string', good({ email: 42 }), 'no-user'],
    ['not a JWT', 'not-a-jwt', 'malformed'],
  ];
  for (const [name, t, expected] of cases) {
    assert.equal(await reason(v.verify(await t)), expected, name);
  }
});

test('within the clock skew an expired token still passes; beyond it, not', async () => {
  const v = tokenVerifier(settings({ clockSkewSeconds: 300 }));
  assert.equal(await reason(v.verify(await mint(key1, { iss: ISS, aud: AUD, claims: { email: 'a@a.example' }, exp: -120 }))), 'accepted');
  assert.equal(await reason(v.verify(await mint(key1, { iss: ISS, aud: AUD, claims: { email: 'a@a.example' }, exp: -400 }))), 'expired');
});

test('an unknown kid refetches the JWKS once (rotation without restart); within the cooldown it does not', async () => {
  jwks.keys = [key1.publicJwk];
  const v = tokenVerifier(settings({ jwksCooldownSeconds: 0 }));
  await v.verify(await good());
  const before = jwks.fetches;
  jwks.keys = [key1.publicJwk, key2.publicJwk]; // the issuer rotates in a new key
  const t2 = await mint(key2, { iss: ISS, aud: AUD, claims: { email: 'b@a.example' } });
  assert.equal((await v.verify(t2)).username, 'b@a.example');
  assert.equal(jwks.fetches, before + 1, 'exactly one refetch');
  await v.verify(t2);
  assert.equal(jwks.fetches, before + 1, 'the refreshed set is cached');

  const slow = tokenVerifier(settings({ jwksCooldownSeconds: 30 }));
  jwks.keys = [key1.publicJwk];
  await slow.verify(await good());
  const n = jwks.fetches;
  assert.equal(await reason(slow.verify(t2)), 'unknown-key');
  assert.equal(await reason(slow.verify(t2)), 'unknown-key');
  assert.equal(jwks.fetches, n, 'no refetch storm within the cooldown');
});

test('an unreachable JWKS fails closed', async () => {
  jwks.down = true;
  try {
    const v = tokenVerifier(settings());
    assert.equal(await reason(v.verify(await good())), 'jwks-unavailable');
  } finally {
    jwks.down = false;
  }
});

test('static keys: public keys work; symmetric algorithms and private keys are refused at configuration', async () => {
  const v = tokenVerifier({ issuer: ISS, audiences: [AUD], jwks: { keys: [key1.publicJwk] } });
  assert.equal((await v.verify(await good())).username, 'alice@a.example');
  assert.throws(() => tokenVerifier({ issuer: ISS, audiences: [AUD], jwks: { keys: [key1.publicJwk] }, algorithms: ['HS256' as never] }), /asymmetric/);
  assert.throws(() => tokenVerifier({ issuer: ISS, audiences: [AUD], jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }), /public keys/);
});
