/**
 * The raw-message cache (src/session/raw-cache.ts) and the one reader every raw read goes through
 * (src/session/raw-messages.ts `forEachRaw`): bounded by its byte budget and per-entry bound, scoped per account,
 * never keeping a body whose length is not the Email's `size` (RFC 8621 §4.1.1), off with a budget of 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIB, RawCache } from '../../src/session/raw-cache.ts';
import { forEachRaw, type RawSource } from '../../src/session/raw-messages.ts';
import type { MailBackend } from '../../src/backend/backend.ts';
import { loadNodeConfig, type NodeConfig } from '../../src/config/node-config.ts';

const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);

test('the budget bounds what is kept: least recently used out first, a recently read entry stays', () => {
  const c = new RawCache(1 * MIB); // per-entry bound: 1 MiB / 16 = 64 KiB
  for (let i = 0; i < 40; i++) assert.ok(c.put('s|', `b${i}`, bytes(60_000)));
  assert.ok(c.bytes <= 1 * MIB, `${c.bytes} bytes held`);
  assert.ok(c.size < 40 && c.size >= 15, `${c.size} entries`);
  assert.equal(c.get('s|', 'b0'), undefined, 'the oldest went first');
  const kept = 40 - c.size; // the first one still in
  assert.ok(c.get('s|', `b${kept}`), 'oldest kept entry');
  c.put('s|', 'new', bytes(60_000)); // evicts one: not the one just read
  assert.ok(c.get('s|', `b${kept}`), 'recently read entry survives');
  assert.equal(c.get('s|', `b${kept + 1}`), undefined, 'the least recently used one went');
});

test('a message over the per-entry bound is not kept (8 MiB, or budget/16 when smaller)', () => {
  const small = new RawCache(1 * MIB);
  assert.equal(small.maxEntry, 64 * 1024);
  assert.equal(small.put('s|', 'big', bytes(64 * 1024 + 1)), false);
  assert.equal(small.get('s|', 'big'), undefined);
  assert.equal(small.put('s|', 'fits', bytes(64 * 1024)), true);
  const big = new RawCache(1024 * MIB);
  assert.equal(big.maxEntry, 8 * MIB);
  assert.equal(big.put('s|', 'huge', bytes(8 * MIB + 1)), false);
  assert.equal(big.size, 0);
});

test('a body whose length differs from the Email size is not kept; the same blobId in two scopes never mixes', () => {
  const c = new RawCache(4 * MIB);
  assert.equal(c.put('alice|', 'B1', bytes(10), 11), false, 'truncated download');
  assert.equal(c.get('alice|', 'B1'), undefined);
  c.put('alice|', 'B1', bytes(10, 0x41), 10);
  c.put('bob|', 'B1', bytes(10, 0x42), 10);
  assert.deepEqual(c.get('alice|', 'B1'), bytes(10, 0x41));
  assert.deepEqual(c.get('bob|', 'B1'), bytes(10, 0x42));
  assert.equal(c.get('carol|', 'B1'), undefined);
});

test('a budget of 0 keeps nothing', () => {
  const c = new RawCache(0);
  assert.equal(c.enabled, false);
  assert.equal(c.put('s|', 'b', bytes(10)), false);
  assert.equal(c.get('s|', 'b'), undefined);
  assert.equal(c.size, 0);
});

/** A store that counts downloads; `short` blobs come back one octet short of their size (a truncated body). */
function fakeStore(blobs: Map<string, Uint8Array>, short = new Set<string>()) {
  const calls: string[] = [];
  const backend = {
    serverInfo: () => ({ sessionUrl: 'https://jmap.example/session', maxSizeUpload: 0, quota: false }),
    async downloadBlob(id: string) {
      calls.push(id);
      const b = blobs.get(id)!;
      return short.has(id) ? b.subarray(0, b.length - 1) : b;
    },
  } as unknown as MailBackend; // only what forEachRaw uses of a store
  return { backend, calls };
}

async function read(from: RawSource | MailBackend, items: Array<{ blobId: string; size: number }>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  await forEachRaw(from, items, (m, raw) => out.set(m.blobId, raw));
  return out;
}

test('forEachRaw: a second read of the same messages makes no store request and hands over the same octets', async () => {
  const blobs = new Map([['B1', new Uint8Array([0x41, 0x00, 0x0a, 0xe9])], ['B2', bytes(5, 0x42)]]);
  const { backend, calls } = fakeStore(blobs);
  const source: RawSource = { account: { accountKey: 't\u0000A1', backend }, cache: new RawCache(4 * MIB) };
  const items = [{ blobId: 'B1', size: 4 }, { blobId: 'B2', size: 5 }];
  assert.deepEqual(await read(source, items), blobs);
  assert.equal(calls.length, 2);
  assert.deepEqual(await read(source, items), blobs);
  assert.equal(calls.length, 2, 'no download the second time');
});

test('forEachRaw: another account, a truncated body, a cache of 0 or no account all go to the store again', async () => {
  const blobs = new Map([['B1', bytes(4)], ['B2', bytes(6)]]);
  const { backend, calls } = fakeStore(blobs, new Set(['B2']));
  const cache = new RawCache(4 * MIB);
  const items = [{ blobId: 'B1', size: 4 }, { blobId: 'B2', size: 6 }];
  await read({ account: { accountKey: 't\u0000A1', backend }, cache }, items);
  assert.deepEqual(calls, ['B1', 'B2']);
  calls.length = 0;
  await read({ account: { accountKey: 't\u0000A1', backend }, cache }, items);
  assert.deepEqual(calls, ['B2'], 'the truncated one was not kept');
  calls.length = 0;
  await read({ account: { accountKey: 't\u0000A2', backend }, cache }, [items[0]!]);
  assert.deepEqual(calls, ['B1'], 'another account does not see the entry');
  calls.length = 0;
  const off = new RawCache(0);
  await read({ account: { accountKey: 't\u0000A1', backend }, cache: off }, [items[0]!]);
  await read({ account: { accountKey: 't\u0000A1', backend }, cache: off }, [items[0]!]);
  assert.deepEqual(calls, ['B1', 'B1'], 'off: every read downloads');
  calls.length = 0;
  await read(backend, [items[0]!]);
  assert.deepEqual(calls, ['B1'], 'a bare backend reads through no cache');
});

test('--raw-cache-mb / RAW_CACHE_MB: 128 MiB by default, 0 turns the cache off', () => {
  const mb = (argv: string[], env: Record<string, string> = {}) => (loadNodeConfig(argv, env) as NodeConfig).rawCacheMb;
  assert.equal(mb([]), 128);
  assert.equal(mb(['--raw-cache-mb', '0']), 0);
  assert.equal(mb([], { RAW_CACHE_MB: '16' }), 16);
  assert.equal(new RawCache(mb(['--raw-cache-mb', '0']) * MIB).enabled, false);
  assert.throws(() => loadNodeConfig(['--raw-cache-mb', 'lots'], {}), /expected an integer/);
});
