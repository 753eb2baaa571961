/**
 * JWKS rotation end to end through AUTHENTICATE OAUTHBEARER (RFC 7628) (issue #5 "Must show"): the issuer (a local
 * JWKS HTTP server) rotates its signing key and the gateway picks the new key up without restart, while the retired
 * key's tokens are refused; an issuer whose JWKS cannot be fetched fails closed (NO [UNAVAILABLE], no login) with a
 * clear warning line naming the tenant and the JWKS URL (and never the token).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { RawClient } from '../helpers/raw-client.ts';
import { makeKey, mint, serveJwks, type JwksServer, type TestKey } from '../helpers/oauth.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { parseTenants, tenantAuthenticator } from '../../src/auth/tenants.ts';
import { startNodeGateway, type NodeGateway } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { Logger } from '../../src/session/context.ts';

const ISS = 'https://id.rotating.test';
const DEAD_ISS = 'https://id.unreachable.test';
const AUD = 'imap';
const USER = 'alice@rotating.test';
const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

let dir: string;
let jwks: JwksServer;
let store: EmbeddedStore;
let http: { url: string; close(): Promise<void> };
let uidStore: SqliteUidStore;
let gateway: NodeGateway;
let k1: TestKey, k2: TestKey, k3: TestKey;
const logs: string[] = [];
const tokens: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-jwks-'));
  [k1, k2, k3] = await Promise.all([makeKey('k1'), makeKey('k2'), makeKey('k3', 'ES256')]);
  jwks = await serveJwks([k1.publicJwk]);
  // The JMAP store checks bearer tokens against the issuer's current keys, as a real store would.
  store = openEmbeddedStore({
    dbPath: join(dir, 'jmap.sqlite'),
    verifyBearer: async (t) => {
      try {
        const { payload } = await jwtVerify(t, createLocalJWKSet({ keys: jwks.keys }), { issuer: ISS, audience: AUD });
        return typeof payload.email === 'string' ? payload.email : null;
      } catch {
        return null;
      }
    },
  });
  store.createUser(USER, 'unused password');
  http = await store.listen(0, '127.0.0.1');
  const line = (level: string) => (obj: object, msg?: string) => void logs.push(JSON.stringify({ level, ...obj, msg }));
  const logger: Logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const doc = parseTenants({
    tenants: [
      { id: 'rot', jmapSessionUrl: `${http.url}/.well-known/jmap`, domains: ['rotating.test'], jwt: { issuer: ISS, audiences: [AUD], jwksUrl: jwks.url, jwksCooldownSeconds: 0 } },
      // Port 1 on loopback: nothing listens there, the connection is refused.
      { id: 'dead', jmapSessionUrl: `${http.url}/.well-known/jmap`, domains: ['unreachable.test'], jwt: { issuer: DEAD_ISS, audiences: [AUD], jwksUrl: 'http://127.0.0.1:1/jwks.json' } },
    ],
  });
  uidStore = SqliteUidStore.open(join(dir, 'uidmap.sqlite'));
  gateway = await startNodeGateway({
    host: '127.0.0.1', imapPort: -1, imapsPort: 0, dataDir: dir,
    authenticator: tenantAuthenticator(doc, { logger, timeoutMs: 3000 }), uidStore, logger, authFailureDelayMs: 10,
  });
});
after(async () => {
  await gateway.close(1000);
  await uidStore.close();
  await http.close();
  await jwks.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function token(key: TestKey, iss = ISS): Promise<string> {
  const t = await mint(key, { iss, aud: AUD, claims: { email: USER } });
  tokens.push(t);
  return t;
}

/** AUTHENTICATE OAUTHBEARER with SASL-IR; answers an error challenge with the dummy ^A. Returns the tagged line. */
async function authenticate(t: string, user = USER): Promise<string> {
  const c = await RawClient.connect(gateway.imapsPort!, { tls: true });
  await c.line();
  c.write(`a AUTHENTICATE OAUTHBEARER ${b64(`n,a=${user},\x01auth=Bearer ${t}\x01\x01`)}\r\n`);
  let l = await c.line();
  if (l.startsWith('+ ')) {
    c.write('AQ==\r\n');
    l = await c.line();
  }
  c.close();
  return l;
}

test('a key rotated in at the issuer is used without restart; the retired key is refused', async () => {
  assert.match(await authenticate(await token(k1)), /^a OK /);
  const before = jwks.fetches;
  jwks.keys = [k2.publicJwk]; // rotation: k2 in, k1 out
  assert.match(await authenticate(await token(k2)), /^a OK /, 'the unknown kid makes the gateway refetch the JWKS');
  assert.equal(jwks.fetches, before + 1, 'one refetch');
  assert.match(await authenticate(await token(k1)), /^a NO \[AUTHENTICATIONFAILED\]/, 'the retired key no longer verifies');
});

test('a JWKS endpoint that fails (HTTP 503) or refuses connections fails closed, with a warning naming tenant and URL', async () => {
  jwks.down = true;
  try {
    assert.match(await authenticate(await token(k3)), /^a NO \[UNAVAILABLE\]/, 'a new kid cannot be fetched: no login');
  } finally {
    jwks.down = false;
  }
  assert.match(await authenticate(await token(k1, DEAD_ISS), 'bob@unreachable.test'), /^a NO \[UNAVAILABLE\]/);
  const warnings = logs.filter((l) => /JWKS unavailable: bearer logins fail closed/.test(l)).map((l) => JSON.parse(l) as Record<string, string>);
  assert.ok(warnings.some((w) => w.level === 'warn' && w.tenant === 'rot' && w.jwks === jwks.url), JSON.stringify(warnings));
  assert.ok(warnings.some((w) => w.level === 'warn' && w.tenant === 'dead' && w.jwks === 'http://127.0.0.1:1/jwks.json'), JSON.stringify(warnings));
  for (const t of tokens) assert.ok(!logs.some((l) => l.includes(t.split('.')[2]!)), 'no token signature in any log line');
});
