/** ByteLru (src/cache/lru.ts): a byte budget, least recently used out first, (scope, key) pairs kept apart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../../src/cache/lru.ts';

test('an entry used since it was stored outlives one that was not (least recently used in spirit)', () => {
  const lru = new ByteLru<string>(30);
  for (const k of ['a', 'b', 'c']) lru.set(k, k.toUpperCase(), 10);
  assert.equal(lru.get('a'), 'A');
  lru.set('d', 'D', 10);
  assert.equal(lru.get('b'), undefined, 'b: the oldest not used since');
  lru.set('e', 'E', 10);
  assert.equal(lru.get('c'), undefined, 'then c');
  assert.deepEqual(['a', 'd', 'e'].map((k) => lru.get(k)), ['A', 'D', 'E']);
  assert.equal(lru.size, 3);
  assert.equal(lru.bytes, 30);
});

test('the entry just stored stays even when every other entry was used', () => {
  const lru = new ByteLru<string>(30);
  for (const k of ['a', 'b', 'c']) lru.set(k, k, 10);
  for (const k of ['a', 'b', 'c']) lru.get(k);
  lru.set('d', 'd', 10);
  assert.equal(lru.get('d'), 'd');
  assert.equal(lru.get('a'), undefined, 'after one round of second chances the oldest goes');
  assert.deepEqual(['b', 'c'].map((k) => lru.get(k)), ['b', 'c']);
  lru.set('big', 'big', 30);
  assert.equal(lru.get('big'), 'big', 'an entry of the whole budget pushes out everything else');
  assert.equal(lru.size, 1);
});

test('scopes keep equal keys apart', () => {
  const lru = new ByteLru<string>(100);
  lru.set('M1', 'one in A', 10, 'acctA');
  lru.set('M1', 'one in B', 10, 'acctB');
  lru.set('M1', 'unscoped', 10);
  assert.equal(lru.get('M1', 'acctA'), 'one in A');
  assert.equal(lru.get('M1', 'acctB'), 'one in B');
  assert.equal(lru.get('M1'), 'unscoped');
  assert.equal(lru.get('M2', 'acctA'), undefined);
  assert.equal(lru.get('M1', 'acctC'), undefined);
  assert.equal(lru.get('acctA\u0000M1'), undefined, 'a scope is not a key prefix');
});

test('scopes share one budget and one eviction order', () => {
  const lru = new ByteLru<string>(30);
  lru.set('M1', 'one in A', 10, 'acctA');
  lru.set('M1', 'one in B', 10, 'acctB');
  lru.set('M1', 'unscoped', 10);
  lru.get('M1', 'acctA');
  lru.set('M2', 'two in A', 10, 'acctA');
  assert.equal(lru.get('M1', 'acctB'), undefined, 'the oldest unused entry of any scope went');
  assert.equal(lru.get('M1', 'acctA'), 'one in A');
  assert.equal(lru.get('M2', 'acctA'), 'two in A');
  assert.equal(lru.size, 3);
});

test('replacing an entry re-weighs it; delete and clear give the bytes back', () => {
  const lru = new ByteLru<string>(100);
  lru.set('k', 'v1', 40, 's');
  lru.set('k', 'v2', 25, 's');
  assert.equal(lru.get('k', 's'), 'v2');
  assert.equal(lru.bytes, 25);
  assert.equal(lru.size, 1);
  lru.set('j', 'w', 50, 's');
  lru.delete('k', 's');
  lru.delete('k', 's'); // twice: no effect
  assert.equal(lru.get('k', 's'), undefined);
  assert.equal(lru.bytes, 50);
  lru.set('k', 'v3', 10, 's');
  assert.equal(lru.get('k', 's'), 'v3', 'a scope emptied and used again works');
  lru.clear();
  assert.equal(lru.size, 0);
  assert.equal(lru.bytes, 0);
  assert.equal(lru.get('j', 's'), undefined);
  lru.set('x', 'y', 100);
  assert.equal(lru.get('x'), 'y', 'an entry of exactly the budget is kept');
});

test('an entry over the whole budget is not kept and removes the older value of its key', () => {
  const lru = new ByteLru<string>(10);
  lru.set('a', 'A', 5);
  lru.set('b', 'B', 5);
  lru.set('a', 'HUGE', 11);
  assert.equal(lru.get('a'), undefined);
  assert.equal(lru.get('b'), 'B');
  assert.equal(lru.bytes, 5);
});

test('many entries through a small budget: the bound holds and the newest stay', () => {
  const lru = new ByteLru<number>(1_000);
  for (let i = 0; i < 5_000; i++) {
    lru.set(`k${i}`, i, 7 + (i % 13), `s${i % 3}`);
    if (i % 10 === 0) lru.get(`k${i - 5}`, `s${(i - 5) % 3}`);
    assert.ok(lru.bytes <= 1_000);
  }
  assert.equal(lru.get('k4999', 's1'), 4999);
  assert.equal(lru.get('k0', 's0'), undefined);
  let bytes = 0;
  let size = 0;
  for (let i = 0; i < 5_000; i++) if (lru.get(`k${i}`, `s${i % 3}`) !== undefined) { bytes += 7 + (i % 13); size++; }
  assert.equal(lru.size, size);
  assert.equal(lru.bytes, bytes, 'the byte count is exactly the live entries\' weights');
});
