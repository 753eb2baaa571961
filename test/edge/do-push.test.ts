/**
 * Through workerd (the Worker's connect() handler, Durable Objects on disk): two IMAP sessions of one account, one
 * in IDLE (RFC 2177, RFC 9051 §6.3.13). A message added directly in JMAP reaches the idler through the account's
 * Durable Object, which owns the account's only watcher (src/edge/account-watch.ts): the Worker's sessions have no
 * watcher of their own, and the object's status shows the waiting session and the change counter moving. Also: the
 * sessions' header FETCHes fill the account's immutable-data cache in the object (src/edge/do-cache.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL, SIMPLE } from '../fixtures/messages.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const USER = 'idle@example.test';
const PASS = 'idle password';
const TOKEN = 'push-test-token';
const dir = mkdtempSync(join(tmpdir(), 'edge-push-'));
let store: EmbeddedStore;
let http: { url: string; close(): Promise<void> };
let w: WorkerdInstance;
let accountKey: string;

before(async () => {
  store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  store.createUser(USER, PASS);
  ALL.slice(0, 2).forEach((raw) => store.importMessage(USER, 'inbox', raw));
  http = await store.listen(0, '127.0.0.1');
  const session = await (await fetch(`${http.url}/.well-known/jmap`, { headers: { Authorization: `Basic ${btoa(`${USER}:${PASS}`)}` } })).json() as
    { primaryAccounts: Record<string, string> };
  accountKey = `edge/${session.primaryAccounts['urn:ietf:params:jmap:mail']}`;
  w = await startWorkerd({ vars: { JMAP_SESSION_URL: `${http.url}/.well-known/jmap`, TENANT: 'edge', TLS_TERMINATED: 'true', AUTH_FAILURE_DELAY_MS: '0', UID_API_TOKEN: TOKEN } });
});
after(async () => {
  await w.stop();
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${w.httpUrl}/v1/accounts/${encodeURIComponent(accountKey)}/${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as T;
type Status = { version: number; waiters: number; credentials: number; mode: string };

async function loggedIn(): Promise<RawClient> {
  const c = await RawClient.connect(w.imapPort);
  await c.line();
  assert.match((await c.command('l', `LOGIN "${USER}" "${PASS}"`)).at(-1)!, /^l OK/);
  assert.match((await c.command('s', 'SELECT INBOX')).at(-1)!, /^s OK/);
  return c;
}

test('workerd: a change made in JMAP reaches the idling session through the account Durable Object', async () => {
  const idler = await loggedIn();
  const other = await loggedIn();
  try {
    idler.write('i IDLE\r\n');
    assert.match(await idler.line(), /^\+ /);
    // Settled: the session waits on the object, which watches by push, and no pulse is pending (the stream's
    // opening pulse wakes the session once) -- the counter holds still for 300 ms.
    let status = await api<Status>('watch');
    let stableSince = Date.now();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      const next = await api<Status>('watch');
      if (next.version !== status.version || next.waiters !== 1 || next.mode !== 'push') stableSince = Date.now();
      status = next;
      if (Date.now() - stableSince >= 300) break;
    }
    assert.equal(status.waiters, 1, 'the idling session waits on the account object');
    assert.equal(status.mode, 'push', 'the object watches the store by JMAP push (EventSource)');
    assert.equal(status.credentials, 1, 'with the credential the session handed over');
    const before = status.version;

    store.importMessage(USER, 'inbox', SIMPLE);
    assert.equal(await idler.line(10_000), '* 3 EXISTS', 'the idler learns of the new message');
    let after = await api<Status>('watch');
    for (const deadline = Date.now() + 5000; after.version === before && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      after = await api<Status>('watch');
    }
    assert.ok(after.version > before, 'through the object: its change counter moved');

    idler.write('DONE\r\n');
    assert.match((await idler.until('i')).at(-1)!, /^i OK/);
    // The other session of the account sees it at its next command (RFC 9051 §7.4.1), not before.
    assert.ok((await other.command('n', 'NOOP')).includes('* 3 EXISTS'));
  } finally {
    idler.close();
    other.close();
  }
});

test('workerd: the sessions keep header blocks in the account object\'s cache', async () => {
  const c = await loggedIn();
  try {
    const before = (await api<{ bytes: number }>('cache/size')).bytes;
    const r = await c.command('f', 'FETCH 1:2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.match(r.at(-1)!, /^f OK/);
    const after = (await api<{ bytes: number }>('cache/size')).bytes;
    assert.ok(after > before, `the object's cache grew (${before} -> ${after} bytes)`);
    const headerBlocks = ALL.slice(0, 2).reduce((n, m) => n + Buffer.from(m).indexOf('\r\n\r\n') + 4, 0);
    assert.ok(after - before >= headerBlocks, `both header blocks are held (${after - before} >= ${headerBlocks})`);
  } finally {
    c.close();
  }
});
