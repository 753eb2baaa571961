/**
 * The KeywordStore and UnseenCountStore contract (src/cache/keyword-store.ts) for memory and SQLite: entries come
 * back only with the JMAP Email state they were written at (RFC 8620 §5.1), changes since a state drop exactly the
 * ids they name, a writer that is wrong about the stored state cannot leave stale entries, accounts do not mix;
 * and, for SQLite, persistence across a reopen and the row bound.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeywordStore, MemoryUnseenCountStore, type KeywordStore, type UnseenCountStore } from '../../src/cache/keyword-store.ts';
import { SqliteMessageCache } from '../../src/cache/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-store-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const open: SqliteMessageCache[] = [];
function sqlite(maxKeywordRows?: number): SqliteMessageCache {
  const c = SqliteMessageCache.open(join(dir, `k${n++}.sqlite`), undefined, undefined, maxKeywordRows);
  open.push(c);
  return c;
}

after(async () => {
  for (const c of open) await c.close();
});

const makers: Array<[string, () => KeywordStore, () => UnseenCountStore]> = [
  ['memory', () => new MemoryKeywordStore(), () => new MemoryUnseenCountStore()],
  ['sqlite', () => sqlite().keywords, () => sqlite().unseenCounts],
];

const asObject = (m: Map<string, readonly string[]> | undefined) => Object.fromEntries([...(m ?? new Map<string, string[]>())].map(([k, v]) => [k, [...v].sort()]));

for (const [name, make, makeCounts] of makers) {
  test(`${name}: entries come back with their state; accounts do not mix`, async () => {
    const s = make();
    assert.equal(await s.load('acct1'), null, 'nothing stored: nothing trusted');
    await s.write('acct1', { from: null, state: 's1', reset: true, set: [['a', ['$seen']], ['b', []], ['c', ['$flagged', 'custom']]] });
    await s.write('acct2', { from: null, state: 'x9', reset: true, set: [['a', ['$draft']]] });
    const one = await s.load('acct1');
    assert.equal(one?.state, 's1');
    assert.deepEqual(asObject(one?.entries), { a: ['$seen'], b: [], c: ['$flagged', 'custom'] });
    const two = await s.load('acct2');
    assert.equal(two?.state, 'x9');
    assert.deepEqual(asObject(two?.entries), { a: ['$draft'] });
  });

  test(`${name}: a change since the state drops exactly its ids and moves the state; later reads add entries`, async () => {
    const s = make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']], ['b', []], ['c', []]] });
    await s.write('a', { from: 's1', state: 's2', drop: ['b', 'zz'] });
    await s.write('a', { from: 's2', state: 's2', set: [['b', ['$answered']], ['d', []]] });
    const snap = await s.load('a');
    assert.equal(snap?.state, 's2');
    assert.deepEqual(asObject(snap?.entries), { a: ['$seen'], b: ['$answered'], c: [], d: [] });
  });

  test(`${name}: a write from a state other than the stored one keeps nothing older`, async () => {
    const s = make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']], ['b', []]] });
    // A writer that missed the change s1 -> s2 (which would have dropped `a`) cannot know what is still valid.
    await s.write('a', { from: 's2', state: 's3', drop: ['b'] });
    const snap = await s.load('a');
    assert.equal(snap?.state, 's3');
    assert.deepEqual(asObject(snap?.entries), {}, '`a` was written at s1 and may have changed since');
    await s.write('a', { from: 's0', state: 's4', set: [['c', ['$flagged']]] });
    assert.deepEqual(asObject((await s.load('a'))?.entries), { c: ['$flagged'] }, 'entries read at the new state are kept');
  });

  test(`${name}: a null state (cannotCalculateChanges) empties the account only`, async () => {
    const s = make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']]] });
    await s.write('b', { from: null, state: 't1', reset: true, set: [['a', ['$seen']]] });
    await s.write('a', { from: 's1', state: null });
    assert.equal(await s.load('a'), null);
    assert.equal((await s.load('b'))?.state, 't1');
  });

  test(`${name}: reset replaces every entry`, async () => {
    const s = make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']], ['b', []]] });
    await s.write('a', { from: 's1', state: 's1', reset: true, set: [['c', []]] });
    assert.deepEqual(asObject((await s.load('a'))?.entries), { c: [] });
  });

  test(`${name}: UNSEEN counts per key, replaced and forgotten`, async () => {
    const c = makeCounts();
    assert.equal(await c.get('k1'), undefined);
    await c.set('k1', { count: 7, emailState: 's1' });
    await c.set('k2', { count: 0, emailState: 's1' });
    await c.set('k1', { count: 6, emailState: 's2' });
    assert.deepEqual(await c.get('k1'), { count: 6, emailState: 's2' });
    assert.deepEqual(await c.get('k2'), { count: 0, emailState: 's1' });
    await c.set('k2', null);
    assert.equal(await c.get('k2'), undefined);
  });
}

test('sqlite: keywords and UNSEEN counts survive a reopen of the cache file', async () => {
  const path = join(dir, 'persist.sqlite');
  const a = SqliteMessageCache.open(path);
  await a.keywords.write('srv\u0000acct', { from: null, state: 'S7', reset: true, set: [['e1', ['$seen', '$flagged']], ['e2', []]] });
  await a.keywords.write('srv\u0000acct', { from: 'S7', state: 'S8', drop: ['e2'] });
  await a.unseenCounts.set('["srv","acct","inbox"]', { count: 41, emailState: 'S8' });
  await a.close();
  const b = SqliteMessageCache.open(path);
  const snap = await b.keywords.load('srv\u0000acct');
  assert.equal(snap?.state, 'S8');
  assert.deepEqual(asObject(snap?.entries), { e1: ['$flagged', '$seen'] });
  assert.deepEqual(await b.unseenCounts.get('["srv","acct","inbox"]'), { count: 41, emailState: 'S8' });
  await b.close();
});

test('sqlite: an id that is not an RFC 8620 §1.2 Id is not stored and cannot disturb the others', async () => {
  const c = sqlite();
  await c.keywords.write('a', { from: null, state: 's1', reset: true, set: [['x\ty', ['$seen']], ['p\nq', ['$flagged']], ['ok-1_Z', ['$draft']]] });
  const snap = await c.keywords.load('a');
  assert.equal(snap?.state, 's1');
  assert.deepEqual(asObject(snap?.entries), { 'ok-1_Z': ['$draft'] });
});

test('sqlite: past the row bound, the least recently used accounts are dropped whole', async () => {
  const c = sqlite(100);
  const set = (p: string, k: number) => Array.from({ length: k }, (_, i) => [`${p}${i}`, ['$seen']] as const);
  await c.keywords.write('old', { from: null, state: 'o', reset: true, set: set('o', 40) });
  await c.keywords.write('used', { from: null, state: 'u', reset: true, set: set('u', 40) });
  await c.keywords.load('used'); // read after `old` was written: more recently used
  await c.keywords.write('new', { from: null, state: 'n', reset: true, set: set('n', 40) });
  assert.equal(await c.keywords.load('old'), null, 'least recently used: dropped with its state');
  assert.equal((await c.keywords.load('used'))?.entries.size, 40);
  assert.equal((await c.keywords.load('new'))?.entries.size, 40, 'the account being written stays');
});

test('sqlite: the UNSEEN counts are bounded', async () => {
  const path = join(dir, 'counts.sqlite');
  const c = SqliteMessageCache.open(path);
  for (let i = 0; i < 10_005; i++) await c.unseenCounts.set(`k${i}`, { count: i, emailState: 's' });
  assert.equal(await c.unseenCounts.get('k0'), undefined, 'the oldest count went first');
  assert.deepEqual(await c.unseenCounts.get('k10004'), { count: 10004, emailState: 's' });
  await c.close();
});
