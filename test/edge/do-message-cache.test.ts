/**
 * The immutable-data cache in the account's Durable Object (src/edge/do-cache.ts): the MessageCache contract
 * (test/cache/contract.ts) run from Node through HttpMessageCache against the Worker's HTTP API in workerd (SQLite
 * storage on disk), a SIGKILL restart keeping the entries, the API's input rules, and a miss (not an error) when
 * the API is unreachable.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedMessage, MessageCache } from '../../src/cache/message-cache.ts';
import { HttpMessageCache } from '../../src/edge/http-message-cache.ts';
import { cachedMessage, runMessageCacheContract } from '../cache/contract.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const TOKEN = 'cache-token-0123456789';
const storageDir = mkdtempSync(join(tmpdir(), 'do-cache-'));
let current: WorkerdInstance = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, storageDir, imap: false });
after(async () => {
  await current.stop();
  rmSync(storageDir, { recursive: true, force: true });
});

/** Without a memory tier unless asked: every get and put then reaches the object. */
const client = (maxBytesPerAccount?: number, memoryBytes = 0): HttpMessageCache =>
  new HttpMessageCache({ baseUrl: current.httpUrl, token: TOKEN, memoryBytes, ...(maxBytesPerAccount ? { maxBytesPerAccount } : {}) });

/** Objects persist across tests: each cache gets its own account names. */
let n = 0;
function scoped(c: MessageCache, prefix: string): MessageCache {
  return {
    get: (account, ids) => c.get(`${prefix}${account}`, ids),
    put: (account, msgs) => c.put(`${prefix}${account}`, msgs),
    size: () => c.size(),
    close: () => c.close(),
  };
}

runMessageCacheContract('Durable Object cache over HTTP (workerd)', (max) => scoped(client(max), `c${n++}-`));
runMessageCacheContract('Durable Object cache over HTTP with a local memory tier', (max) => scoped(client(max, 64 * 1024), `m${n++}-`));

test('Durable Object cache: two gateways share the account cache; the memory tier answers repeats locally', async () => {
  let requests = 0;
  const counting = (async (input: RequestInfo | URL, init?: RequestInit) => { requests++; return fetch(input, init); }) as typeof fetch;
  const account = `shared-${Date.now()}`;
  await client().put(account, [cachedMessage('s1'), cachedMessage('s2')]);
  const other = new HttpMessageCache({ baseUrl: current.httpUrl, token: TOKEN, fetch: counting });
  assert.deepEqual([...(await other.get(account, ['s1', 's2'])).keys()].sort(), ['s1', 's2'], 'put by one gateway, read by another');
  assert.equal(requests, 1);
  assert.equal((await other.get(account, ['s1', 's2'])).size, 2);
  assert.equal(requests, 1, 'the second read is answered from memory');
});

test('Durable Object cache: entries survive a SIGKILL of workerd and a restart on the same storage', async () => {
  const account = `persist-${Date.now()}`;
  await client().put(account, [cachedMessage('x', 3000)]);
  await current.stop('SIGKILL');
  current = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, storageDir, imap: false });
  const c = client();
  assert.deepEqual((await c.get(account, ['x'])).get('x'), cachedMessage('x', 3000));
  assert.ok((await c.size()) > 3000);
});

test('Durable Object cache API: bearer token required, malformed puts are 400 and store nothing', async () => {
  const base = `${current.httpUrl}/v1/accounts/api-${Date.now()}/cache`;
  assert.equal((await fetch(`${base}/size`)).status, 401);
  const h = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  const good = { ...cachedMessage('ok'), header: 'QUJD' };
  for (const bad of [
    { messages: [{ ...good, header: 'not base64!' }], maxBytes: 1000 },
    { messages: [{ ...good, size: -1 }], maxBytes: 1000 },
    { messages: [good], maxBytes: 0 },
    { messages: 'x', maxBytes: 1000 },
  ]) {
    assert.equal((await fetch(`${base}/put`, { method: 'POST', headers: h, body: JSON.stringify(bad) })).status, 400, JSON.stringify(bad));
  }
  const size = (await (await fetch(`${base}/size`, { headers: h })).json()) as { bytes: number };
  assert.equal(size.bytes, 0);
});

test('HttpMessageCache: an unreachable API is a miss, not an error', async () => {
  const errors: unknown[] = [];
  const c = new HttpMessageCache({ baseUrl: 'http://127.0.0.1:9', token: TOKEN, timeoutMs: 2000, memoryBytes: 0, onError: (e) => errors.push(e) });
  const m: CachedMessage = cachedMessage('y');
  await c.put('a', [m]);
  assert.equal((await c.get('a', ['y'])).size, 0);
  assert.equal(errors.length, 2, 'both failures reported');
});
