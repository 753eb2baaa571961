/**
 * The push fan-out of an account's Durable Object (src/edge/account-watch.ts), in Node against the embedded JMAP
 * store: one watcher, many waiters; the newest credential a session gave is used, a credential the store refuses
 * (HTTP 401, RFC 8620 §3.6.1 / RFC 6750 §3.1) is dropped for the next one, and with none left the watcher stops.
 * Push is switched off here (the EventSource answers 204, as Cyrus does) so the watcher polls and every poll shows
 * which credential it used. The end-to-end version through workerd is in do-push.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { AccountWatch, type WatchCredential } from '../../src/edge/account-watch.ts';
import { basicAuth } from '../../src/backend/jmap/auth.ts';
import { silentLogger } from '../../src/session/context.ts';
import { SIMPLE } from '../fixtures/messages.ts';

const dir = mkdtempSync(join(tmpdir(), 'account-watch-'));
const store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
store.createUser('ann@example.test', 'good-password');
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const SESSION_URL = 'http://jmap.test/.well-known/jmap';
/** Authorization values the store must refuse from now on (a changed password, a revoked token). */
const revoked = new Set<string>();
/** The Authorization value of every API request the watcher made. */
const used: string[] = [];
const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const req = new Request(input, init);
  const auth = req.headers.get('authorization') ?? '';
  if (req.url.includes('/jmap/eventsource')) return new Response(null, { status: 204 });
  if (revoked.has(auth)) return new Response('{"type":"about:blank","status":401}', { status: 401 });
  if (req.url.includes('/jmap/api')) used.push(auth);
  return store.fetch(req);
}) as typeof fetch;

const cred = async (password: string): Promise<WatchCredential> =>
  ({ sessionUrl: SESSION_URL, authorization: await basicAuth('ann@example.test', password).header() });
const watch = (graceMs = 300): AccountWatch => new AccountWatch({
  watch: { pollIntervalMs: 50, coalesceMs: 10, pushRetryMs: 1000 }, logger: silentLogger, fetch: fetchFn, graceMs, maxCredentials: 4,
});
const until = async (what: string, cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('one watcher, many waiters: a change made in JMAP wakes every waiter with the new counter', async () => {
  const w = watch(60_000);
  const good = await cred('good-password');
  const v0 = await w.wait(-1, good, 1000);
  await until('polling', () => w.status().mode === 'poll');
  // Settled: the first poll's pulse has happened and the counter holds still for 200 ms.
  for (let seen = -1; seen !== w.status().version;) {
    seen = w.status().version;
    await new Promise((r) => setTimeout(r, 200));
  }
  const since = w.status().version;
  assert.equal(await w.wait(since, good, 300), since, 'no change: the waiter times out with the same counter');
  const a = w.wait(since, good, 5000);
  const b = w.wait(since, undefined, 5000);
  assert.equal(w.status().waiters, 2);
  store.importMessage('ann@example.test', 'inbox', SIMPLE);
  const [va, vb] = await Promise.all([a, b]);
  assert.ok(va > since && vb > since, `both woke with a newer counter (${since} -> ${va}, ${vb}; first ${v0})`);
  assert.equal(w.status().credentials, 1, 'the same credential twice is remembered once');
  w.close();
});

test('a refused credential is dropped: the newest valid one is used, and with none left the watcher stops', async () => {
  const w = watch(60_000);
  const good = await cred('good-password');
  const stale = await cred('old-password');
  revoked.add(stale.authorization);
  await w.wait(-1, good, 10);
  await until('polling with the good credential', () => w.status().mode === 'poll');
  // A newer credential that the store refuses: dropped at once, the older valid one keeps the watch.
  await w.wait(-1, stale, 10);
  await until('the refused credential dropped', () => w.status().credentials === 1);
  await until('watching again', () => w.status().mode === 'poll');
  used.length = 0;
  await until('a poll', () => used.length > 0);
  assert.ok(used.every((a) => a === good.authorization), 'polls use the remaining valid credential');
  // The password changes: the watcher's only credential fails, is dropped, and the watcher stops.
  revoked.add(good.authorization);
  await until('stopped', () => w.status().mode === 'stopped');
  assert.equal(w.status().credentials, 0);
  used.length = 0;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(used.length, 0, 'no requests after stopping');
  revoked.delete(good.authorization);
  w.close();
});

test('the watcher stops when no session has waited for the grace period, and a new waiter restarts it', async () => {
  const w = watch();
  const good = await cred('good-password');
  await w.wait(-1, good, 10);
  await until('polling', () => w.status().mode === 'poll');
  const v = w.status().version;
  await w.wait(v, undefined, 50); // times out, then the 300 ms grace runs
  await until('stopped after the grace period', () => w.status().mode === 'stopped');
  assert.equal(w.status().credentials, 1, 'the valid credential is kept for the next waiter');
  void w.wait(w.status().version, undefined, 200);
  await until('restarted', () => w.status().mode === 'poll');
  w.close();
});

test('a session that never comes back to wait does not keep the watcher running', async () => {
  const w = watch();
  await w.wait(-1, await cred('good-password'), 1000); // answered at once; no further call
  await until('polling', () => w.status().mode === 'poll');
  await until('stopped after the grace period', () => w.status().mode === 'stopped');
});
