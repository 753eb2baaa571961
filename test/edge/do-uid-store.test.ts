/**
 * UidStoreDO (src/edge/do-uid-store.ts): the UidStore contract suite, run from Node through HttpUidStore against the
 * UID store HTTP API of the Worker in workerd (Durable Objects with SQLite storage on disk), restart included;
 * and the API's own rules: bearer token, input validation, percent-encoded keys.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpUidStore } from '../../src/edge/http-uid-store.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import { runUidStoreContract } from '../uidmap/contract.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const TOKEN = 'test-token-0123456789';
const storageDir = mkdtempSync(join(tmpdir(), 'do-store-'));
let current: WorkerdInstance = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, storageDir, imap: false });
after(async () => {
  await current.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

/** Each store gets its own accounts (the objects persist across tests), so "fresh" holds. */
let n = 0;
function scoped(store: HttpUidStore, prefix: string): HttpUidStore {
  const wrap = Object.create(store) as HttpUidStore;
  for (const m of ['openMailbox', 'assign', 'list', 'snapshot', 'commitSync', 'expunge', 'setSyncState', 'advanceSyncState', 'resetMailbox', 'getDeleted', 'setDeleted', 'touch', 'vanished', 'setOrigins', 'getOrigins'] as const) {
    const f = (store[m] as (...a: unknown[]) => unknown).bind(store);
    (wrap as unknown as Record<string, unknown>)[m] = (account: string, ...rest: unknown[]) => f(`${prefix}${account}`, ...rest);
  }
  return wrap;
}
const client = (): HttpUidStore => new HttpUidStore({ baseUrl: current.httpUrl, token: TOKEN });

runUidStoreContract('UidStoreDO over HTTP (workerd)', async () => {
  const prefix = `t${n++}-`;
  return {
    store: scoped(client(), prefix),
    reopen: async () => {
      // A real restart: SIGKILL workerd and start it again on the same on-disk storage.
      await current.stop('SIGKILL');
      current = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, storageDir, imap: false });
      return scoped(client(), prefix);
    },
  };
}, { persistent: true });

test('UID store API: a missing or wrong bearer token is 401 and reaches no store', async () => {
  const url = `${current.httpUrl}/v1/accounts/x/mailboxes/inbox/open`;
  assert.equal((await fetch(url, { method: 'POST' })).status, 401);
  const wrong = await fetch(url, { method: 'POST', headers: { Authorization: 'Bearer nope' } });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer/);
  await assert.rejects(new HttpUidStore({ baseUrl: current.httpUrl, token: 'nope' }).openMailbox('x', 'inbox'),
    (e: unknown) => e instanceof ImapError && e.code?.name === 'UNAVAILABLE');
});

test('UID store API: malformed bodies are 400', async () => {
  const h = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  const base = `${current.httpUrl}/v1/accounts/v/mailboxes/inbox`;
  assert.equal((await fetch(`${base}/assign`, { method: 'POST', headers: h, body: '{"emailIds":"a"}' })).status, 400);
  assert.equal((await fetch(`${base}/expunge`, { method: 'POST', headers: h, body: '{"uids":[0]}' })).status, 400);
  assert.equal((await fetch(`${base}/deleted`, { method: 'POST', headers: h, body: 'not json' })).status, 400);
  const origins = `${current.httpUrl}/v1/accounts/v/origins`;
  for (const bad of ['{"origins":[["c",{"emailId":"s"}]]}', '{"origins":[["",{"emailId":"s","threadId":"t"}]]}', '{"origins":{"c":"s"}}']) {
    assert.equal((await fetch(`${origins}/put`, { method: 'POST', headers: h, body: bad })).status, 400, bad);
  }
  assert.equal((await fetch(`${origins}/get`, { method: 'POST', headers: h, body: '{"emailIds":[1]}' })).status, 400);
  assert.deepEqual(await new HttpUidStore({ baseUrl: current.httpUrl, token: TOKEN }).getOrigins('v', ['c']), new Map(), 'nothing bad was stored');
});

test('UID store API: account and mailbox keys with "/" and non-ASCII travel intact', async () => {
  const s = client();
  const account = `tenant/acct-${Date.now()}`;
  await s.assign(account, 'Box/ä 1', ['e1']);
  assert.deepEqual(await s.list(account, 'Box/ä 1'), [{ uid: 1, emailId: 'e1' }]);
  assert.deepEqual(await s.list(account, 'Box'), []);
  assert.deepEqual(await s.list(`tenant`, 'Box/ä 1'), []);
});

test('HttpUidStore: an unreachable API is NO [UNAVAILABLE]', async () => {
  const s = new HttpUidStore({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, timeoutMs: 2000 });
  await assert.rejects(s.openMailbox('a', 'b'), (e: unknown) => e instanceof ImapError && e.code?.name === 'UNAVAILABLE');
});
