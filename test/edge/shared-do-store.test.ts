/**
 * Two Node gateways sharing one Durable Object UID store through its HTTP API (HttpUidStore -> Worker in workerd ->
 * UidStoreDO), on one JMAP store: the scale-out path. Both show the same UIDs and UIDVALIDITY, and concurrent
 * APPENDs through both never get one UID twice (RFC 9051 §2.3.1.1, RFC 4315 APPENDUID).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { startNodeGateway, type NodeGateway } from '../../src/transport/node-gateway.ts';
import { HttpUidStore } from '../../src/edge/http-uid-store.ts';
import { ALL } from '../fixtures/messages.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const USER = 'alice@example.test';
const PASS = 'correct horse battery staple';
const TOKEN = 'shared-store-token';
const dir = mkdtempSync(join(tmpdir(), 'edge-shared-'));
let store: EmbeddedStore;
let http: { url: string; close(): Promise<void> };
let w: WorkerdInstance;
const gateways: NodeGateway[] = [];

before(async () => {
  store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  store.createUser(USER, PASS);
  ALL.forEach((raw, i) => store.importMessage(USER, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 10, 9, i)) }));
  http = await store.listen(0, '127.0.0.1');
  w = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, imap: false });
  for (const name of ['a', 'b']) {
    gateways.push(await startNodeGateway({
      host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: join(dir, name),
      authenticator: jmapBasicAuthenticator({ sessionUrl: `${http.url}/.well-known/jmap`, tenant: 'shared' }),
      uidStore: new HttpUidStore({ baseUrl: w.httpUrl, token: TOKEN }),
      authFailureDelayMs: 0,
    }));
  }
});
after(async () => {
  await Promise.all(gateways.map((g) => g.close(1000)));
  await w.stop();
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(g: NodeGateway): Promise<ImapFlow> {
  const c = new ImapFlow({ host: '127.0.0.1', port: g.imapPort!, secure: false, doSTARTTLS: false, auth: { user: USER, pass: PASS }, logger: false });
  await c.connect();
  return c;
}

/** UIDVALIDITY and the UID of every message of INBOX, as one gateway shows them. */
async function inboxUids(g: NodeGateway): Promise<{ uidValidity: number; uids: number[] }> {
  const c = await connect(g);
  try {
    const box = await c.mailboxOpen('INBOX');
    const rows = box.exists ? await c.fetchAll('1:*', { uid: true }) : [];
    return { uidValidity: Number(box.uidValidity), uids: rows.map((r) => r.uid) };
  } finally {
    await c.logout();
  }
}

test('two Node gateways on one DO store: same UIDVALIDITY and UIDs; concurrent APPENDs never share a UID', async () => {
  const [a, b] = [gateways[0]!, gateways[1]!];
  const viewA = await inboxUids(a);
  const viewB = await inboxUids(b);
  assert.deepEqual(viewA.uids, ALL.map((_, i) => i + 1));
  assert.deepEqual(viewB, viewA, 'both gateways show the same mailbox identity');

  const PER_CLIENT = 6;
  const clients = await Promise.all([a, a, b, b].map((g) => connect(g)));
  try {
    const appended = await Promise.all(clients.flatMap((c, ci) => Array.from({ length: PER_CLIENT }, async (_, k) => {
      const msg = `From: c${ci}@example.test\r\nSubject: concurrent ${ci}-${k}\r\nMessage-ID: <c${ci}-${k}@example.test>\r\n\r\nbody ${ci}-${k}\r\n`;
      return c.append('INBOX', Buffer.from(msg));
    })));
    for (const r of appended) assert.ok(r && typeof r.uid === 'number', 'APPEND answered with APPENDUID');
    const uids = appended.map((r) => (r as { uid: number }).uid);
    assert.equal(new Set(uids).size, uids.length, 'no UID handed out twice across the two gateways');
    for (const r of appended) assert.equal(Number((r as { uidValidity: bigint }).uidValidity), viewA.uidValidity);
    const after = await inboxUids(b);
    const expected = [...viewA.uids, ...uids].sort((x, y) => x - y);
    assert.deepEqual(after.uids, expected, 'every APPENDUID is the UID the other gateway shows');
    assert.deepEqual(await inboxUids(a), after);
  } finally {
    await Promise.all(clients.map((c) => c.logout()));
  }
});
