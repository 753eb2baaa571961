/**
 * The gateway on workerd: a real client (imapflow) over real TCP into the Worker's `connect()` handler (the pinned
 * workerd binary, inbound TCP without `--experimental`), which talks to the embedded JMAP store over real HTTP and
 * keeps UIDs in Durable Objects on disk. Then SIGKILL workerd, restart it on the same storage: UIDs and
 * UIDVALIDITY survive (RFC 9051 §2.3.1.1). Plus the no-TLS rules of an edge listener (RFC 9051 §6.2.3).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL, SIMPLE } from '../fixtures/messages.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const USER = 'alice@example.test';
const PASS = 'correct horse battery staple';
const dir = mkdtempSync(join(tmpdir(), 'edge-tcp-'));
let store: EmbeddedStore;
let http: { url: string; close(): Promise<void> };
let vars: Record<string, string>;
let w: WorkerdInstance;
let accountId: string;
let sentId: string;

before(async () => {
  store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  ({ accountId } = store.createUser(USER, PASS));
  const t0 = Date.UTC(2024, 0, 10, 9, 0, 0);
  ALL.forEach((raw, i) => store.importMessage(USER, 'inbox', raw, { receivedAt: new Date(t0 + i * 60_000) }));
  sentId = store.importMessage(USER, 'sent', SIMPLE, { receivedAt: new Date(t0) }).emailId;
  http = await store.listen(0, '127.0.0.1');
  vars = { JMAP_SESSION_URL: `${http.url}/.well-known/jmap`, TENANT: 'edge', TLS_TERMINATED: 'true', AUTH_FAILURE_DELAY_MS: '0', UID_API_TOKEN: 'tcp-test-token' };
  w = await startWorkerd({ vars, storageDir: join(dir, 'do') });
});
after(async () => {
  await w.stop();
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(port: number): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: USER, pass: PASS }, logger: false });
}

/** LOGIN, LIST, SELECT INBOX, folder-listing FETCH, BODY[] of every message: what a session on workerd shows. */
async function session(port: number): Promise<{ uidValidity: number; uids: number[] }> {
  const c = client(port);
  await c.connect();
  try {
    const paths = (await c.list()).map((m) => m.path);
    for (const p of ['INBOX', 'Sent', 'Trash']) assert.ok(paths.includes(p), `LIST shows ${p}: ${paths.join(',')}`);
    const box = await c.mailboxOpen('INBOX');
    assert.equal(box.exists, ALL.length);
    assert.equal(Number(box.uidNext), ALL.length + 1);
    const rows = await c.fetchAll('1:*', { uid: true, size: true, headers: ['Subject', 'Date'] });
    assert.deepEqual(rows.map((r) => r.uid), ALL.map((_, i) => i + 1), 'UIDs ascend in arrival order');
    assert.deepEqual(rows.map((r) => r.size), ALL.map((m) => m.length), 'RFC822.SIZE is the stored size');
    assert.match(rows[0]!.headers!.toString('latin1'), /^Subject: Lunch on Friday\?\r\n/m);
    for (let i = 0; i < ALL.length; i++) {
      const { content } = await c.download(String(i + 1), undefined, { uid: true });
      assert.ok(content, `BODY[] of UID ${i + 1} returned`);
      const chunks: Buffer[] = [];
      for await (const ch of content) chunks.push(ch as Buffer);
      assert.ok(Buffer.concat(chunks).equals(Buffer.from(ALL[i]!)), `BODY[] of UID ${i + 1} is byte-identical`);
    }
    return { uidValidity: Number(box.uidValidity), uids: rows.map((r) => r.uid) };
  } finally {
    await c.logout();
  }
}

test('workerd: imapflow session (LOGIN, LIST, SELECT, FETCH headers, BODY[] byte identity); SIGKILL + restart keeps UIDs and UIDVALIDITY', async () => {
  const first = await session(w.imapPort);
  assert.ok(first.uidValidity > 1_600_000_000, 'UIDVALIDITY seeded from the clock');
  await w.stop('SIGKILL');
  w = await startWorkerd({ vars, storageDir: w.storageDir });
  const again = await session(w.imapPort);
  assert.equal(again.uidValidity, first.uidValidity, 'UIDVALIDITY survives the crash');
  assert.deepEqual(again.uids, first.uids, 'UIDs survive the crash');
  // A new message after the restart gets the next UID, never a reused one.
  store.importMessage(USER, 'inbox', SIMPLE, { receivedAt: new Date() });
  const c = client(w.imapPort);
  await c.connect();
  try {
    const box = await c.mailboxOpen('INBOX');
    assert.equal(box.exists, ALL.length + 1);
    const last = await c.fetchOne('*', { uid: true });
    assert.ok(last && last.uid === ALL.length + 1);
  } finally {
    await c.logout();
  }
});

/** `* n FETCH (UID u EMAILID (e) THREADID (t))` lines -> uid -> [emailId, threadId]. */
function objectIds(lines: string[]): Map<number, [string, string]> {
  return new Map(lines.flatMap((l) => {
    const m = /UID (\d+) EMAILID \(([A-Za-z0-9_-]+)\) THREADID \(([A-Za-z0-9_-]+)\)/.exec(l);
    return m ? [[Number(m[1]), [m[2]!, m[3]!]] as const] : [];
  }));
}

/** The JMAP email ids in the Sent mailbox, read from the JMAP store itself. */
async function sentEmailIds(): Promise<string[]> {
  const call = async (methodCalls: unknown[]) => {
    const res = await fetch(`${http.url}/jmap/api`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(`${USER}:${PASS}`) },
      body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls }),
    });
    return ((await res.json()) as { methodResponses: Array<[string, { ids: string[] }, string]> }).methodResponses[0]![1].ids;
  };
  const [sent] = await call([['Mailbox/query', { accountId, filter: { role: 'sent' } }, 'm']]);
  return call([['Email/query', { accountId, filter: { inMailbox: sent } }, 'q']]);
}

async function loggedIn(port: number): Promise<RawClient> {
  const r = await RawClient.connect(port);
  await r.line();
  assert.match((await r.command('l', `LOGIN "${USER}" "${PASS}"`)).at(-1)!, /^l OK /);
  return r;
}

test('workerd: OBJECTID is advertised; a COPY into the same mailbox (an import) keeps the source EMAILID/THREADID in the DO (RFC 8474 §5.1)', async () => {
  const r = await loggedIn(w.imapPort);
  let src: [string, string];
  try {
    assert.ok((await r.command('c', 'CAPABILITY'))[0]!.split(' ').includes('OBJECTID'));
    assert.match((await r.command('s', 'SELECT Sent')).at(-1)!, /^s OK /);
    src = objectIds(await r.command('f', 'UID FETCH 1 (EMAILID THREADID)')).get(1)!;
    assert.equal(src?.[0], sentId, 'EMAILID is the JMAP email id (RFC 8474 §5.1)');
    assert.match((await r.command('li', 'LIST "" "*"')).at(-1)!, /^li OK /); // a Mailbox/get just before the write
    const copied = await r.command('k', 'UID COPY 1 Sent');
    assert.match(copied.at(-1)!, /^k OK \[COPYUID \d+ 1 2\]/);
    const ids = await sentEmailIds();
    assert.equal(new Set(ids).size, 2, 'the JMAP store holds two emails: the copy is an import with its own JMAP id');
    // RFC 9051 §7.4.1 / RFC 4315 §3: the copy is a new message of the selected mailbox, announced by EXISTS within
    // the COPY's own response (the client then knows UID 2 at once), and not again at the next NOOP.
    assert.deepEqual(copied.filter((l) => /^\* \d+ EXISTS/.test(l)), ['* 2 EXISTS'], `COPY response: ${JSON.stringify(copied)}`);
    assert.deepEqual((await r.command('n', 'NOOP')).filter((l) => /^\* \d+ EXISTS/.test(l)), []);
    assert.deepEqual(objectIds(await r.command('g', 'UID FETCH 2 (EMAILID THREADID)')).get(2), src, 'COPYUID pairing: same EMAILID and THREADID');
  } finally {
    r.close();
  }
  // A new session reads the origin back from the account's Durable Object.
  const d = await loggedIn(w.imapPort);
  try {
    assert.match((await d.command('s', 'SELECT Sent')).at(-1)!, /^s OK /);
    assert.deepEqual([...objectIds(await d.command('f', 'UID FETCH 1:* (EMAILID THREADID)'))], [[1, src], [2, src]]);
    assert.deepEqual(await d.command('e', `UID SEARCH EMAILID ${src[0]}`), ['* SEARCH 1 2', 'e OK SEARCH completed']);
  } finally {
    d.close();
  }
});

test('workerd: no STARTTLS on an edge listener; without a TLS terminator credentials are refused (LOGINDISABLED)', async () => {
  const plain = await startWorkerd({ vars: { ...vars, TLS_TERMINATED: 'false' } });
  try {
    const r = await RawClient.connect(plain.imapPort);
    try {
      const greeting = await r.line();
      assert.match(greeting, /^\* OK \[CAPABILITY [^\]]*LOGINDISABLED/);
      assert.doesNotMatch(greeting, /STARTTLS/, 'STARTTLS is not offered: workerd sockets cannot upgrade');
      assert.match((await r.command('a1', `LOGIN "${USER}" "${PASS}"`)).at(-1)!, /^a1 NO /);
    } finally {
      r.close();
    }
  } finally {
    await plain.stop();
  }
  // Behind the terminator the greeting offers neither STARTTLS nor LOGINDISABLED.
  const r = await RawClient.connect(w.imapPort);
  try {
    const greeting = await r.line();
    assert.doesNotMatch(greeting, /STARTTLS|LOGINDISABLED/);
  } finally {
    r.close();
  }
});
