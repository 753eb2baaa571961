/**
 * The keyword and UNSEEN count stores in the account's Durable Object (src/edge/do-keyword-store.ts): the
 * KeywordStore/UnseenCountStore contract (test/cache/keyword-contract.ts) run from Node through the HTTP clients
 * (src/edge/http-keyword-store.ts) against the Worker's API in workerd (SQLite storage on disk, the object reached
 * over RPC), a SIGKILL restart keeping everything, the per-object bounds, routing by the gateway's key forms, the
 * API's input rules, and a rejection (not a hang) when the API is unreachable.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeywordStore, UnseenCountStore } from '../../src/cache/keyword-store.ts';
import { httpKeywordAccess, httpKeywordStores } from '../../src/edge/http-keyword-store.ts';
import { asObject, runKeywordStoreContract } from '../cache/keyword-contract.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const TOKEN = 'keyword-token-0123456789';
const storageDir = mkdtempSync(join(tmpdir(), 'do-keywords-'));
let current: WorkerdInstance = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, storageDir, imap: false });
after(async () => {
  await current.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

const stores = (fetchFn?: typeof fetch) => httpKeywordStores({ baseUrl: current.httpUrl, token: TOKEN, ...(fetchFn ? { fetch: fetchFn } : {}) });
const access = () => httpKeywordAccess({ baseUrl: current.httpUrl, token: TOKEN });

/** Objects persist across tests: each store gets its own account names, in the account part of the key forms. */
let n = 0;
function scopedKey(prefix: string, key: string): string {
  try {
    const v: unknown = JSON.parse(key);
    if (Array.isArray(v) && typeof v[1] === 'string') return JSON.stringify([v[0], `${prefix}${v[1]}`, ...v.slice(2)]);
  } catch {
    // not STATUS's form
  }
  return `${prefix}${key}`;
}
function scopedKeywords(s: KeywordStore, prefix: string): KeywordStore {
  return { load: (key) => s.load(scopedKey(prefix, key)), write: (key, w) => s.write(scopedKey(prefix, key), w) };
}
function scopedCounts(s: UnseenCountStore, prefix: string): UnseenCountStore {
  return { get: (key) => s.get(scopedKey(prefix, key)), set: (key, c) => s.set(scopedKey(prefix, key), c) };
}

/** A network that delays earlier requests more than later ones: what is sent first may arrive last. */
let sent = 0;
const jittery = (async (input: RequestInfo | URL, init?: RequestInit) => {
  await new Promise((r) => setTimeout(r, 40 - 10 * (sent++ % 4)));
  return fetch(input, init);
}) as typeof fetch;

runKeywordStoreContract('Durable Object keyword store over HTTP (workerd)',
  () => scopedKeywords(stores(jittery).keywords, `k${n++}-`), () => scopedCounts(stores(jittery).unseenCounts, `u${n++}-`));

test('Durable Object keyword store: keywords and UNSEEN counts survive a SIGKILL of workerd and a restart on the same storage', async () => {
  const key = `tenant/persist-${Date.now()}\u0000https://jmap.example/.well-known/jmap`;
  const countKey = JSON.stringify(['https://jmap.example/.well-known/jmap', `tenant/persist-${Date.now()}`, 'inbox']);
  const before = stores();
  await before.keywords.write(key, { from: null, state: 'S7', reset: true, set: [['e1', ['$seen', '$flagged']], ['e2', []], ['e3', ['$seen']]] });
  await before.keywords.write(key, { from: 'S7', state: 'S8', drop: ['e2'] });
  await before.unseenCounts.set(countKey, { count: 41, emailState: 'S8' });
  await current.stop('SIGKILL');
  current = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, storageDir, imap: false });
  const after = stores();
  const snap = await after.keywords.load(key);
  assert.equal(snap?.state, 'S8');
  assert.deepEqual(asObject(snap?.entries), { e1: ['$flagged', '$seen'], e3: ['$seen'] });
  assert.deepEqual(await after.unseenCounts.get(countKey), { count: 41, emailState: 'S8' });
});

test('Durable Object keyword store: an account\'s keys share its object; past the row bound the least recently used go whole', async () => {
  const a = access();
  const account = `bound-${Date.now()}`;
  const key = (srv: string) => `${account}\u0000https://${srv}.example/jmap`;
  const set = (p: string, k: number) => Array.from({ length: k }, (_, i) => [`${p}${i}`, ['$seen']] as [string, string[]]);
  await a.write(account, key('old'), { from: null, state: 'o', reset: true, set: set('o', 40) }, 100);
  await a.write(account, key('used'), { from: null, state: 'u', reset: true, set: set('u', 40) }, 100);
  await a.load(account, key('used')); // read after `old` was written: more recently used
  await a.write(account, key('new'), { from: null, state: 'n', reset: true, set: set('n', 40) }, 100);
  assert.equal(await a.load(account, key('old')), null, 'least recently used: dropped with its state');
  const used = await a.load(account, key('used'));
  assert.equal(used?.groups.flatMap(([, ids]) => ids).length, 40);
  assert.equal((await a.load(account, key('new')))?.groups.flatMap(([, ids]) => ids).length, 40, 'the key being written stays');
  // A key that alone is over the bound cannot stay within it: it is not kept (nothing claimed, nothing stale).
  await a.write(`${account}-big`, key('big'), { from: null, state: 'b', reset: true, set: set('b', 150) }, 100);
  assert.equal(await a.load(`${account}-big`, key('big')), null);
});

test('Durable Object keyword store: ids that are not RFC 8620 §1.2 Ids are not stored and disturb nothing', async () => {
  const { keywords } = stores();
  const key = `ids-${Date.now()}\u0000srv`;
  await keywords.write(key, { from: null, state: 's1', reset: true, set: [['x\ny', ['$seen']], ['p\tq', ['$flagged']], ['ok-1_Z', ['$draft']]] });
  const snap = await keywords.load(key);
  assert.equal(snap?.state, 's1');
  assert.deepEqual(asObject(snap?.entries), { 'ok-1_Z': ['$draft'] });
});

test('Durable Object UNSEEN counts: bounded per object, the oldest written out first', async () => {
  const a = access();
  const account = `counts-${Date.now()}`;
  const key = (box: string) => JSON.stringify(['https://jmap.example/jmap', account, box]);
  for (const [i, box] of ['a', 'b', 'c', 'd'].entries()) await a.unseenSet(account, key(box), { count: i, emailState: 's' }, 3);
  assert.equal(await a.unseenGet(account, key('a')), null, 'the oldest went');
  assert.deepEqual(await a.unseenGet(account, key('d')), { count: 3, emailState: 's' });
  assert.deepEqual(await a.unseenGet(account, key('b')), { count: 1, emailState: 's' });
});

test('Durable Object keyword store: a 20,000-entry snapshot comes back whole in one HTTP request', async () => {
  let requests = 0;
  const counting = (async (input: RequestInfo | URL, init?: RequestInit) => { requests++; return fetch(input, init); }) as typeof fetch;
  const { keywords } = stores(counting);
  const key = `large-${Date.now()}\u0000srv`;
  const sets = [['$seen'], [], ['$seen', '$flagged'], ['$answered', '$seen']];
  const all = Array.from({ length: 20_000 }, (_, i) => [`M${i}`, sets[i % 4]!] as [string, string[]]);
  for (let i = 0; i < all.length; i += 5_000) {
    await keywords.write(key, { from: i === 0 ? null : 'big', state: 'big', reset: i === 0, set: all.slice(i, i + 5_000) });
  }
  requests = 0;
  const snap = await keywords.load(key);
  assert.equal(requests, 1);
  assert.equal(snap?.entries.size, all.length);
  assert.deepEqual([...snap!.entries.get('M2')!].sort(), ['$flagged', '$seen']);
  assert.deepEqual(snap!.entries.get('M19999'), ['$answered', '$seen']);
});

test('keyword store API: bearer token required; malformed writes and counts are 400 and store nothing', async () => {
  const account = `api-${Date.now()}`;
  const base = `${current.httpUrl}/v1/accounts/${account}`;
  const key = `${account}\u0000srv`;
  assert.equal((await fetch(`${base}/keywords/load`, { method: 'POST', body: JSON.stringify({ key }) })).status, 401);
  const h = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  const post = (op: string, body: unknown) => fetch(`${base}/${op}`, { method: 'POST', headers: h, body: JSON.stringify(body) });
  const good = { from: null, state: 's1', reset: true, set: [['a', ['$seen']]] };
  for (const bad of [
    { key, write: { ...good, set: [['a', '$seen']] }, maxRows: 100 },
    { key, write: { ...good, state: 5 }, maxRows: 100 },
    { key, write: { ...good, drop: 'a' }, maxRows: 100 },
    { key, write: good, maxRows: 0 },
    { key, write: good },
    { key: '', write: good, maxRows: 100 },
  ]) {
    assert.equal((await post('keywords/write', bad)).status, 400, JSON.stringify(bad));
  }
  for (const bad of [{ key, count: { count: -1, emailState: 's' }, max: 10 }, { key, count: { count: 1 }, max: 10 }, { key, count: null, max: 0 }]) {
    assert.equal((await post('unseen/set', bad)).status, 400, JSON.stringify(bad));
  }
  assert.deepEqual(await (await post('keywords/load', { key })).json(), { snapshot: null }, 'nothing bad was stored');
  assert.deepEqual(await (await post('unseen/get', { key })).json(), { count: null });
});

test('HTTP keyword stores: an unreachable API rejects (the keyword cache then keeps to memory)', async () => {
  const s = httpKeywordStores({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, timeoutMs: 2000 });
  await assert.rejects(s.keywords.load('a\u0000srv'));
  await assert.rejects(s.keywords.write('a\u0000srv', { from: null, state: 's', reset: true }));
  await assert.rejects(s.unseenCounts.get('k'));
});
