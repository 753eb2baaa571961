/**
 * Certificates per tenant chosen by the TLS SNI name (RFC 6066 §3), on implicit TLS (RFC 8314 §3.2) and after
 * STARTTLS (RFC 9051 §6.2.1): a client naming tenant A's host sees A's certificate and is served by A's store, B's
 * likewise; no or an unknown name gets the default certificate. Tenant isolation: A's user cannot SELECT B's
 * mailboxes. Bad certificate files stop the gateway at start with a message naming tenant and file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTenantsBed, SniClient, writeCert, type TenantsBed } from '../helpers/tenants-bed.ts';
import { loadTenantContexts, TlsConfigError } from '../../src/transport/node-tls.ts';

let bed: TenantsBed;
before(async () => {
  bed = await startTenantsBed({ gateway: { loopbackIsSecure: false } });
});
after(() => bed.close());

const login = (c: SniClient, tag: string, user: string, password: string): Promise<string> =>
  c.command(tag, `LOGIN "${user}" "${password}"`).then((l) => l.at(-1)!);

describe('implicit TLS', () => {
  test('servername of tenant A: certificate A, A\'s mechanisms, A\'s store (SNI wins over the user\'s domain)', async () => {
    const c = await SniClient.connect(bed.imapsPort, { tls: true, servername: bed.a.hostname });
    assert.equal(c.peerCommonName(), 'imap.a.test');
    const greeting = await c.line();
    assert.match(greeting, / AUTH=PLAIN[ \]]/);
    assert.doesNotMatch(greeting, /AUTH=LOGIN/, 'tenant a offers PLAIN only');
    assert.match(await login(c, 'a1', bed.b.user, bed.b.password), /^a1 NO \[AUTHENTICATIONFAILED\]/, "B's user is not in A's store");
    assert.match(await login(c, 'a2', bed.a.user, bed.a.password), /^a2 OK /);
    c.close();
  });

  test('servername of tenant B: certificate B, B\'s mechanisms, B\'s store', async () => {
    const c = await SniClient.connect(bed.imapsPort, { tls: true, servername: 'IMAP.B.TEST' });
    assert.equal(c.peerCommonName(), 'imap.b.test', 'SNI names are case-insensitive (RFC 6066 §3)');
    assert.match(await c.line(), / AUTH=LOGIN[ \]]/);
    assert.match(await login(c, 'b1', bed.a.user, bed.a.password), /^b1 NO \[AUTHENTICATIONFAILED\]/);
    assert.match(await login(c, 'b2', bed.b.user, bed.b.password), /^b2 OK /);
    c.close();
  });

  test('no SNI or an unknown name: the default certificate', async () => {
    for (const servername of [undefined, 'imap.other.test']) {
      const c = await SniClient.connect(bed.imapsPort, { tls: true, ...(servername ? { servername } : {}) });
      assert.equal(c.peerCommonName(), 'localhost');
      assert.match(await c.line(), /^\* OK /);
      c.close();
    }
  });
});

test('STARTTLS with servername B: certificate B, then B\'s capabilities and store', async () => {
  const c = await SniClient.connect(bed.imapPort, { tls: false });
  assert.match(await c.line(), /LOGINDISABLED/);
  assert.match((await c.command('s1', 'STARTTLS')).at(-1)!, /^s1 OK /);
  await c.startTls(bed.b.hostname);
  assert.equal(c.peerCommonName(), 'imap.b.test');
  const caps = (await c.command('s2', 'CAPABILITY'))[0]!;
  assert.match(caps, / AUTH=LOGIN( |$)/);
  assert.doesNotMatch(caps, /LOGINDISABLED|STARTTLS/);
  assert.match(await login(c, 's3', bed.b.user, bed.b.password), /^s3 OK /);
  c.close();
});

test("tenant isolation: A's user cannot SELECT, STATUS or see B's mailboxes", async () => {
  const b = await SniClient.connect(bed.imapsPort, { tls: true, servername: bed.b.hostname });
  await b.line();
  assert.match(await login(b, 'b1', bed.b.user, bed.b.password), /^b1 OK /);
  assert.match((await b.command('b2', 'CREATE "Secret-of-B"')).at(-1)!, /^b2 OK /);
  b.close();
  const a = await SniClient.connect(bed.imapsPort, { tls: true, servername: bed.a.hostname });
  await a.line();
  assert.match(await login(a, 'a1', bed.a.user, bed.a.password), /^a1 OK /);
  assert.match((await a.command('a2', 'SELECT "Secret-of-B"')).at(-1)!, /^a2 NO /);
  assert.match((await a.command('a3', 'STATUS "Secret-of-B" (MESSAGES)')).at(-1)!, /^a3 NO /);
  const list = await a.command('a4', 'LIST "" "*"');
  assert.ok(!list.some((l) => l.includes('Secret-of-B')), list.join('\n'));
  a.close();
});

describe('certificate files are checked at start', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file names the tenant, the property and the file', () => {
    assert.throws(
      () => loadTenantContexts([{ id: 'a', hostnames: ['imap.a.test'], tls: { certFile: join(dir, 'nope.pem'), keyFile: join(dir, 'nope.key') } }]),
      (e: unknown) => e instanceof TlsConfigError && /^tenant "a": tls\.certFile .*nope\.pem: cannot read \(ENOENT\)$/.test(e.message),
    );
  });

  test('a file that is not PEM, and a key of another certificate, are refused', async () => {
    const x = await writeCert(dir, 'x.test');
    const y = await writeCert(dir, 'y.test');
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    for (const files of [{ certFile: junk, keyFile: x.keyFile }, { certFile: x.certFile, keyFile: y.keyFile }]) {
      assert.throws(
        () => loadTenantContexts([{ id: 'b', hostnames: ['imap.b.test'], tls: files }]),
        (e: unknown) => e instanceof TlsConfigError && /^tenant "b": tls\.certFile .* not a usable PEM certificate and key \(.+\)$/.test(e.message),
      );
    }
  });

  test('the gateway does not start with a bad tenant certificate', async () => {
    await assert.rejects(
      startTenantsBed({ a: { tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'missing.key') } } }),
      TlsConfigError,
    );
  });
});
