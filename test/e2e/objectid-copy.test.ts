/**
 * RFC 8474 OBJECTID across COPY / MOVE, and the per-tenant COPY semantics (label / copy) with COPYUID.
 *
 * RFC 8474 §5.1: "The server MUST return the same EMAILID as the source message for the matching destination
 * message in the COPYUID pairing after a COPY or MOVE command"; §5.2: "The server MUST return the same THREADID for
 * all messages with the same EMAILID". A COPY into the mailbox that holds the email (and every COPY with copy
 * semantics) creates a second JMAP email by import, so these tests check the JMAP store really holds two emails
 * and that IMAP still shows the source's ids, in FETCH and SEARCH, in a later session too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { parseTenants, tenantAuthenticator, TenantConfigError } from '../../src/auth/tenants.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeGateway } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { loadNodeConfig, policyOf, type NodeConfig } from '../../src/config/node-config.ts';

const enc = new TextEncoder();
const msg = (n: string) => enc.encode(`From: a@example.org\r\nSubject: message ${n}\r\nMessage-ID: <${n}@example.org>\r\n\r\nBody ${n}\r\n`);

type Email = { id: string; mailboxIds: Record<string, true>; keywords: Record<string, true>; threadId: string };

async function session(bed: TestBed, select?: string): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  assert.match((await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^L OK /);
  if (select) assert.match((await c.command('S', `SELECT "${select}"`)).at(-1)!, /^S OK /);
  return c;
}

async function createMailbox(bed: TestBed, accountId: string, name: string): Promise<string> {
  const [, r] = (await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name } } }, '0']]))[0]!;
  return String((r.created as Record<string, { id: string }>).m!.id);
}

async function emailsIn(bed: TestBed, accountId: string, mailboxId: string): Promise<Email[]> {
  const r = await jmap(bed, [
    ['Email/query', { accountId, filter: { inMailbox: mailboxId } }, 'q'],
    ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['mailboxIds', 'keywords', 'threadId'] }, 'g'],
  ]);
  return r[1]![1].list as Email[];
}

/** `* n FETCH (UID u EMAILID (e) THREADID (t))` lines -> uid -> [emailId, threadId]. */
function objectIds(lines: string[]): Map<number, [string, string]> {
  const out = new Map<number, [string, string]>();
  for (const l of lines) {
    const m = /UID (\d+) EMAILID \(([A-Za-z0-9_-]+)\) THREADID \(([A-Za-z0-9_-]+)\)/.exec(l);
    if (m) out.set(Number(m[1]), [m[2]!, m[3]!]);
  }
  return out;
}

function copyUid(line: string): { src: string; dst: string } {
  const m = /\[COPYUID \d+ (\S+) (\S+)\]/.exec(line);
  assert.ok(m, `no COPYUID in ${line}`);
  return { src: m[1]!, dst: m[2]! };
}

describe('label semantics (default)', () => {
  let bed: TestBed;
  let accountId: string;
  before(async () => {
    bed = await startTestBed();
    accountId = await accountIdOf(bed);
  });
  after(() => bed.close());

  test('OBJECTID is advertised after login', async () => {
    const c = await session(bed);
    assert.ok((await c.command('c', 'CAPABILITY'))[0]!.split(' ').includes('OBJECTID'));
    c.close();
  });

  test('RFC 8474 §5.1: a COPY into the same mailbox keeps the source EMAILID and THREADID, in FETCH and SEARCH', async () => {
    const box = await createMailbox(bed, accountId, 'same');
    bed.store.importMessage(bed.user, 'same', msg('same-1'));
    const c = await session(bed, 'same');
    const before = objectIds(await c.command('f', 'UID FETCH 1 (EMAILID THREADID)'));
    const [srcEmail, srcThread] = before.get(1)!;
    const copied = await c.command('c', 'UID COPY 1 same');
    assert.deepEqual(copyUid(copied.at(-1)!), { src: '1', dst: '2' });
    // The JMAP store really holds two emails now (import), not one email with two labels.
    const jmapIds = (await emailsIn(bed, accountId, box)).map((e) => e.id);
    assert.equal(jmapIds.length, 2);
    assert.notEqual(jmapIds[0], jmapIds[1]);
    const after = objectIds(await c.command('g', 'UID FETCH 1:2 (EMAILID THREADID)'));
    assert.deepEqual(after.get(2), [srcEmail, srcThread], 'COPYUID pairing: same EMAILID, and so the same THREADID');
    assert.deepEqual(after.get(1), [srcEmail, srcThread], 'the source keeps its ids');
    assert.deepEqual(await c.command('s', `UID SEARCH EMAILID ${srcEmail}`), ['* SEARCH 1 2', 's OK SEARCH completed']);
    assert.deepEqual(await c.command('t', `UID SEARCH THREADID ${srcThread}`), ['* SEARCH 1 2', 't OK SEARCH completed']);
    // A copy of the copy still shows the first source's ids.
    assert.deepEqual(copyUid((await c.command('c2', 'UID COPY 2 same')).at(-1)!), { src: '2', dst: '3' });
    c.close();
    // A later session (ids read back from the UID store, not remembered by the connection).
    const d = await session(bed, 'same');
    const later = objectIds(await d.command('h', 'UID FETCH 1:3 (EMAILID THREADID)'));
    assert.deepEqual([...later.values()], [[srcEmail, srcThread], [srcEmail, srcThread], [srcEmail, srcThread]]);
    d.close();
  });

  test('RFC 8474 §5.1: MOVE within the mailbox and COPY to another mailbox keep EMAILID; different messages differ', async () => {
    await createMailbox(bed, accountId, 'src');
    await createMailbox(bed, accountId, 'dst');
    bed.store.importMessage(bed.user, 'src', msg('mv-1'));
    bed.store.importMessage(bed.user, 'src', msg('mv-2'));
    const c = await session(bed, 'src');
    const ids = objectIds(await c.command('f', 'UID FETCH 1:2 (EMAILID THREADID)'));
    assert.notEqual(ids.get(1)![0], ids.get(2)![0], 'two messages, two EMAILIDs');
    assert.deepEqual(copyUid((await c.command('c', 'UID COPY 1 dst')).at(-1)!), { src: '1', dst: '1' });
    const moved = await c.command('m', 'UID MOVE 2 src');
    assert.ok(moved.some((l) => /^\* OK \[COPYUID \d+ 2 3\]/.test(l)), moved.join('\n'));
    const now = objectIds(await c.command('g', 'UID FETCH 1:* (EMAILID THREADID)'));
    assert.deepEqual(now.get(3), ids.get(2), 'the moved copy shows the EMAILID of the message it replaced');
    assert.equal(now.has(2), false);
    c.close();
    const d = await session(bed, 'dst');
    assert.deepEqual(objectIds(await d.command('f', 'UID FETCH 1 (EMAILID THREADID)')).get(1), ids.get(1));
    d.close();
  });
});

describe('copy semantics', () => {
  let bed: TestBed;
  let accountId: string;
  before(async () => {
    bed = await startTestBed({ gateway: { policy: { copySemantics: 'copy' } } });
    accountId = await accountIdOf(bed);
  });
  after(() => bed.close());

  test('COPY imports a new email into the destination: COPYUID, flags copied, flags independent afterwards, same EMAILID', async () => {
    const src = await createMailbox(bed, accountId, 'a');
    const dst = await createMailbox(bed, accountId, 'b');
    bed.store.importMessage(bed.user, 'a', msg('cp-1'), { keywords: ['$flagged'] });
    bed.store.importMessage(bed.user, 'a', msg('cp-2'));
    const c = await session(bed, 'a');
    const ids = objectIds(await c.command('f', 'UID FETCH 1:2 (EMAILID THREADID)'));
    assert.deepEqual(copyUid((await c.command('c', 'UID COPY 1:2 b')).at(-1)!), { src: '1:2', dst: '1:2' });
    const inA = await emailsIn(bed, accountId, src);
    const inB = await emailsIn(bed, accountId, dst);
    assert.equal(inA.length, 2);
    assert.equal(inB.length, 2);
    for (const e of inA) assert.deepEqual(Object.keys(e.mailboxIds), [src], 'the sources are not labelled with b');
    for (const e of inB) assert.deepEqual(Object.keys(e.mailboxIds), [dst]);
    assert.equal(inB.filter((e) => e.keywords.$flagged).length, 1, 'flags are copied (RFC 9051 §6.4.7)');
    assert.match((await c.command('s', 'UID STORE 1 -FLAGS.SILENT (\\Flagged)')).at(-1)!, /^s OK /);
    assert.equal((await emailsIn(bed, accountId, dst)).filter((e) => e.keywords.$flagged).length, 1, 'the copy keeps its own flags');
    c.close();
    const d = await session(bed, 'b');
    assert.deepEqual(objectIds(await d.command('f', 'UID FETCH 1:2 (EMAILID THREADID)')), ids, 'RFC 8474 §5.1 across the import');
    d.close();
  });

  test('MOVE is unaffected: the same JMAP email changes mailbox', async () => {
    const src = await createMailbox(bed, accountId, 'm1');
    const dst = await createMailbox(bed, accountId, 'm2');
    const { emailId } = bed.store.importMessage(bed.user, 'm1', msg('mv-c'));
    const c = await session(bed, 'm1');
    const moved = await c.command('m', 'UID MOVE 1 m2');
    assert.ok(moved.some((l) => /^\* OK \[COPYUID \d+ 1 1\]/.test(l)), moved.join('\n'));
    assert.deepEqual(await emailsIn(bed, accountId, src), []);
    assert.deepEqual((await emailsIn(bed, accountId, dst)).map((e) => e.id), [emailId]);
    c.close();
  });
});

describe('configuration', () => {
  test('tenants: copySemantics and searchText are validated, and a tenant\'s value reaches its sessions', async () => {
    const tenant = (extra: object) => ({ tenants: [{ id: 't', jmapSessionUrl: 'http://127.0.0.1:1/.well-known/jmap', ...extra }] });
    assert.throws(() => parseTenants(tenant({ copySemantics: 'move' })), TenantConfigError);
    assert.throws(() => parseTenants(tenant({ searchText: 'fuzzy' })), TenantConfigError);
    assert.equal(parseTenants(tenant({ copySemantics: 'copy', searchText: 'index' })).tenants[0]!.copySemantics, 'copy');

    // A tenant with copy semantics, on a gateway whose own default is label: COPY imports.
    const bed = await startTestBed({ gateway: { policy: { copySemantics: 'label' } } });
    const dir = mkdtempSync(join(tmpdir(), 'gw-tenant-'));
    const doc = parseTenants({ tenants: [{ id: 'c', jmapSessionUrl: `${bed.jmapUrl}/.well-known/jmap`, copySemantics: 'copy', searchText: 'index' }], defaultTenant: 'c' });
    const gw = await startNodeGateway({
      host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: dir, authenticator: tenantAuthenticator(doc),
      uidStore: SqliteUidStore.open(join(dir, 'uidmap.sqlite')), authFailureDelayMs: 10, policy: { copySemantics: 'label', searchText: 'exact' },
    });
    try {
      const accountId = await accountIdOf(bed);
      const src = await createMailbox(bed, accountId, 'ta');
      const dst = await createMailbox(bed, accountId, 'tb');
      bed.store.importMessage(bed.user, 'ta', msg('tenant-1'));
      const c = await session({ ...bed, imapPort: gw.imapPort! }, 'ta');
      assert.deepEqual(copyUid((await c.command('c', 'UID COPY 1 tb')).at(-1)!), { src: '1', dst: '1' });
      // searchText index: TEXT answered by the JMAP text filter, which skips Message-ID (RFC 8621 §4.4.1);
      // an exact TEXT search finds the string there (RFC 9051 §6.4.4: "header or body").
      assert.deepEqual(await c.command('t', 'UID SEARCH TEXT tenant-1@example'), ['* SEARCH', 't OK SEARCH completed']);
      c.close();
      const [a] = await emailsIn(bed, accountId, src);
      const [b] = await emailsIn(bed, accountId, dst);
      assert.ok(a && b && a.id !== b.id, 'the tenant setting made COPY an import');
    } finally {
      await gw.close(1000);
      await bed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--copy-semantics and --search-text: defaults, values, and refusal of anything else', () => {
    const cfg = (argv: string[]) => loadNodeConfig(argv, {}) as NodeConfig;
    assert.deepEqual(policyOf(cfg([])), { copySemantics: 'label', searchText: 'exact' });
    assert.deepEqual(policyOf(cfg(['--copy-semantics', 'copy', '--search-text', 'index'])), { copySemantics: 'copy', searchText: 'index' });
    assert.throws(() => policyOf(cfg(['--copy-semantics', 'duplicate'])), /copy-semantics/);
    assert.throws(() => policyOf(cfg(['--search-text', 'fuzzy'])), /search-text/);
  });
});
