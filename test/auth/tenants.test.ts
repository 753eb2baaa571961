/** Tenant configuration (schema messages an operator sees), resolution order, isolation, and failed-auth throttling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTenants, resolveTenant, tenantAuthenticator, TenantConfigError, type TenantsDocument } from '../../src/auth/tenants.ts';
import { AuthThrottle } from '../../src/auth/throttle.ts';
import { BearerRejected } from '../../src/session/context.ts';
import { makeKey, mint } from '../helpers/oauth.ts';

const A = { id: 'a', jmapSessionUrl: 'http://127.0.0.1:9/a', hostnames: ['imap.a.example'], domains: ['a.example'] };
const B = { id: 'b', jmapSessionUrl: 'http://127.0.0.1:9/b', hostnames: ['imap.b.example'], domains: ['b.example'] };

function problems(doc: unknown): string[] {
  try {
    parseTenants(doc);
  } catch (err) {
    assert.ok(err instanceof TenantConfigError);
    return err.problems;
  }
  return [];
}

test('a valid document passes; misconfigurations are reported with their path', () => {
  assert.deepEqual(problems({ tenants: [A, B], defaultTenant: 'a' }), []);
  assert.ok(problems({}).some((p) => p.startsWith('/:') && /tenants/.test(p)), 'tenants is required');
  assert.ok(problems({ tenants: [{ ...A, jmapSessionUrl: 'ftp://x' }] }).some((p) => p.startsWith('/tenants/0/jmapSessionUrl')));
  assert.ok(problems({ tenants: [{ ...A, mechanisms: ['CRAM-MD5'] }] }).some((p) => p.startsWith('/tenants/0/mechanisms/0')));
  assert.ok(problems({ tenants: [{ ...A, jwt: { issuer: 'i', audiences: ['x'], jwksUrl: 'http://k', algorithms: ['none'] } }] })
    .some((p) => p.startsWith('/tenants/0/jwt/algorithms/0')), 'alg none is not allowed');
  assert.ok(problems({ tenants: [{ ...A, jwt: { issuer: 'i', audiences: ['x'], jwksUrl: 'http://k', algorithms: ['HS256'] } }] })
    .some((p) => p.startsWith('/tenants/0/jwt/algorithms/0')), 'HS256 is not allowed');
  assert.ok(problems({ tenants: [{ ...A, typo: 1 }] }).some((p) => p.startsWith('/tenants/0')), 'unknown property');
  assert.deepEqual(problems({ tenants: [A, { ...B, domains: ['A.example'] }] }), ['/tenants/1: domain "A.example" is already used by /tenants/0']);
  assert.deepEqual(problems({ tenants: [{ ...A, jwt: { issuer: 'i', audiences: ['x'] } }] }), ['/tenants/0/jwt: give exactly one of jwksUrl and jwks']);
  assert.deepEqual(problems({ tenants: [{ ...A, mechanisms: ['XOAUTH2'] }] }), ['/tenants/0/mechanisms: OAUTHBEARER and XOAUTH2 need a jwt section']);
  assert.deepEqual(problems({ tenants: [A], defaultTenant: 'z' }), ['/defaultTenant: no tenant has id "z"']);
});

test('resolution order: SNI name, then the user domain, then the token issuer, then the default', () => {
  const doc: TenantsDocument = { tenants: [A, { ...B, jwt: { issuer: 'https://id.b', audiences: ['g'], jwksUrl: 'http://k' } }], defaultTenant: 'a' };
  assert.equal(resolveTenant(doc, { serverName: 'IMAP.B.example', username: 'x@a.example' })?.id, 'b', 'SNI wins over the domain');
  assert.equal(resolveTenant(doc, { username: 'x@b.example', issuer: 'nope' })?.id, 'b');
  assert.equal(resolveTenant(doc, { username: 'x@elsewhere', issuer: 'https://id.b' })?.id, 'b');
  assert.equal(resolveTenant(doc, { username: 'nobody' })?.id, 'a', 'default');
  assert.equal(resolveTenant({ tenants: [A] }, { username: 'nobody' }), null);
});

test("a valid token of tenant A presented on tenant B's hostname is refused", async () => {
  const ka = await makeKey('ka');
  const kb = await makeKey('kb');
  const doc = parseTenants({
    tenants: [
      { ...A, jwt: { issuer: 'https://id.a', audiences: ['gw'], jwks: { keys: [ka.publicJwk] } } },
      { ...B, jwt: { issuer: 'https://id.b', audiences: ['gw'], jwks: { keys: [kb.publicJwk] } } },
    ],
  });
  const auth = tenantAuthenticator(doc);
  const token = await mint(ka, { iss: 'https://id.a', aud: 'gw', claims: { email: 'alice@a.example' } });
  const conn = { id: 1, remoteAddress: '192.0.2.1', tls: true, starttls: false, serverName: 'imap.b.example' };
  await assert.rejects(auth.loginBearer!({ authzid: 'alice@a.example', token, mechanism: 'OAUTHBEARER' }, conn), BearerRejected);
  // Same for a B user name without SNI: the domain picks B, whose rules refuse A's token.
  await assert.rejects(auth.loginBearer!({ authzid: 'bob@b.example', token, mechanism: 'XOAUTH2' }, { ...conn, serverName: undefined } as never), BearerRejected);
});

test('throttling: the delay doubles per failure of a user or an address, an address is blocked, a user never is', () => {
  let now = 0;
  const t = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 1000, ipBlockAfter: 5, ipBlockMs: 60_000, windowMs: 600_000, maxEntries: 100 }, () => now);
  assert.deepEqual([1, 2, 3, 4].map(() => t.failure('alice', '198.51.100.1')), [100, 200, 400, 800]);
  assert.equal(t.blocked('198.51.100.1'), false);
  assert.equal(t.failure('alice', '198.51.100.1'), 1000, 'capped');
  assert.equal(t.blocked('198.51.100.1'), true);
  assert.equal(t.blocked('203.0.113.7'), false, 'the real user elsewhere is not blocked');
  t.success('ALICE');
  assert.equal(t.failure('bob', '203.0.113.7'), 100, 'another user from another address starts fresh');
  now += 60_001;
  assert.equal(t.blocked('198.51.100.1'), false, 'the block is temporary');
});
