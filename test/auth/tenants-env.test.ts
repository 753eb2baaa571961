/**
 * Environment overrides of the tenants document (src/config/tenants-env.ts): the whole document from
 * GATEWAY_TENANTS_JSON, GATEWAY_TENANTS_DEFAULT, and GATEWAY_TENANT_<ID>_<PROP> (`__` steps into an object), all
 * applied before schema validation, whose messages then name the variable that set a bad value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTenantsDocument } from '../../src/config/tenants-env.ts';
import { TenantConfigError } from '../../src/auth/tenants.ts';

const base = {
  defaultTenant: 'acme',
  tenants: [
    { id: 'acme', jmapSessionUrl: 'https://jmap.acme.example/.well-known/jmap', domains: ['acme.example'] },
    { id: 'acme-eu', jmapSessionUrl: 'https://jmap.eu.acme.example/.well-known/jmap' },
  ],
};
const file = { name: 'tenants.json', text: JSON.stringify(base) };

function problems(f: typeof file | null, env: Record<string, string>): string[] {
  try {
    loadTenantsDocument(f, env);
  } catch (err) {
    assert.ok(err instanceof TenantConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a TenantConfigError');
}

test('no file and no variables: single-tenant mode (null); the file alone is used as is', () => {
  assert.equal(loadTenantsDocument(null, { PATH: '/bin' }), null);
  assert.deepEqual(loadTenantsDocument(file, {}), base);
});

test('GATEWAY_TENANTS_JSON is the whole document; giving it and a file is an error', () => {
  assert.deepEqual(loadTenantsDocument(null, { GATEWAY_TENANTS_JSON: JSON.stringify(base) }), base);
  assert.deepEqual(problems(file, { GATEWAY_TENANTS_JSON: '{}' }), ['GATEWAY_TENANTS_JSON and a tenants file (tenants.json) are both given; use one']);
  assert.match(problems(null, { GATEWAY_TENANTS_JSON: '{"tenants": [' })[0]!, /^GATEWAY_TENANTS_JSON: not valid JSON/);
});

test('GATEWAY_TENANT_<ID>_<PROP>: strings, JSON values, nested properties; the longest tenant id wins', () => {
  const doc = loadTenantsDocument(file, {
    GATEWAY_TENANT_ACME_JMAP_SESSION_URL: 'http://127.0.0.1:8080/.well-known/jmap',
    GATEWAY_TENANT_ACME_EU_DOMAINS: '["eu.acme.example"]',
    GATEWAY_TENANT_ACME_EU_REQUIRE_TLS: 'true',
    GATEWAY_TENANT_ACME_LIMITS__THROTTLE__IP_BLOCK_AFTER: '5',
    GATEWAY_TENANT_ACME_JWT__ISSUER: 'https://id.acme.example',
    GATEWAY_TENANT_ACME_JWT__AUDIENCES: '["imap"]',
    GATEWAY_TENANT_ACME_JWT__JWKS_URL: 'https://id.acme.example/jwks.json',
    GATEWAY_TENANTS_DEFAULT: 'acme-eu',
  })!;
  assert.equal(doc.defaultTenant, 'acme-eu');
  assert.deepEqual(doc.tenants[0], {
    id: 'acme',
    jmapSessionUrl: 'http://127.0.0.1:8080/.well-known/jmap',
    domains: ['acme.example'],
    limits: { throttle: { ipBlockAfter: 5 } },
    jwt: { issuer: 'https://id.acme.example', audiences: ['imap'], jwksUrl: 'https://id.acme.example/jwks.json' },
  });
  assert.deepEqual(doc.tenants[1], { id: 'acme-eu', jmapSessionUrl: 'https://jmap.eu.acme.example/.well-known/jmap', domains: ['eu.acme.example'], requireTls: true });
});

test("a bad override gets the schema's message, naming the variable", () => {
  assert.deepEqual(problems(file, { GATEWAY_TENANT_ACME_JMAP_SESSION_URL: 'ftp://jmap.acme.example' }), [
    '/tenants/0/jmapSessionUrl: String does not match the pattern ^https?://. (set by GATEWAY_TENANT_ACME_JMAP_SESSION_URL)',
  ]);
  assert.deepEqual(problems(file, { GATEWAY_TENANT_ACME_LIMITS__MAX_CONNECTIONS_PER_USER: '0' }), [
    '/tenants/0/limits/maxConnectionsPerUser: 0 is less than 1. (set by GATEWAY_TENANT_ACME_LIMITS__MAX_CONNECTIONS_PER_USER)',
  ]);
  assert.deepEqual(problems(file, { GATEWAY_TENANTS_DEFAULT: 'nope' }), ['/defaultTenant: no tenant has id "nope" (set by GATEWAY_TENANTS_DEFAULT)']);
});

test('a variable naming no tenant, or overriding without a document, is an error', () => {
  assert.deepEqual(problems(file, { GATEWAY_TENANT_GLOBEX_JMAP_SESSION_URL: 'http://x' }), ['GATEWAY_TENANT_GLOBEX_JMAP_SESSION_URL: no tenant id matches the start of "GLOBEX_JMAP_SESSION_URL"']);
  assert.deepEqual(problems(null, { GATEWAY_TENANT_ACME_JMAP_SESSION_URL: 'http://x' }), [
    'GATEWAY_TENANT_ACME_JMAP_SESSION_URL: there is no tenants document to override (give --tenants or GATEWAY_TENANTS_JSON)',
  ]);
  assert.equal(loadTenantsDocument(null, { GATEWAY_TENANT: 'default', GATEWAY_TENANTS: '' }), null, 'GATEWAY_TENANT (the --tenant flag) is not an override');
});
