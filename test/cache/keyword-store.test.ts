/**
 * The KeywordStore and UnseenCountStore contract (./keyword-contract.ts, src/cache/keyword-store.ts) for memory and
 * SQLite (the Durable Object's run is test/edge/do-keyword-store.test.ts); and, for SQLite, persistence across a
 * reopen and the row bound.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeywordStore, MemoryUnseenCountStore } from '../../src/cache/keyword-store.ts';
import { SqliteMessageCache } from '../../src/cache/sqlite.ts';
import { asObject, runKeywordStoreContract } from './keyword-contract.ts';

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

runKeywordStoreContract('memory', () => new MemoryKeywordStore(), () => new MemoryUnseenCountStore());
runKeywordStoreContract('sqlite', () => sqlite().keywords, () => sqlite().unseenCounts);

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
