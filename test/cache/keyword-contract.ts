/**
 * The KeywordStore and UnseenCountStore contract (src/cache/keyword-store.ts): every implementation (memory,
 * SQLite, the Durable Object over HTTP) must pass it. Entries come back only with the JMAP Email state they were
 * written at (RFC 8620 §5.1), changes since a state drop exactly the ids they name, a writer that is wrong about the
 * stored state cannot leave stale entries, writes apply in call order, accounts do not mix.
 * `make()` / `makeCounts()` give stores with fresh accounts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeywordStore, UnseenCountStore } from '../../src/cache/keyword-store.ts';

type Maker<T> = () => T | Promise<T>;

export const asObject = (m: Map<string, readonly string[]> | undefined): Record<string, string[]> =>
  Object.fromEntries([...(m ?? new Map<string, string[]>())].map(([k, v]) => [k, [...v].sort()]));

export function runKeywordStoreContract(name: string, make: Maker<KeywordStore>, makeCounts: Maker<UnseenCountStore>): void {
  test(`${name}: entries come back with their state; accounts do not mix`, async () => {
    const s = await make();
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

  test(`${name}: one account on two JMAP servers (the keyword cache's keys) keeps two sets of entries`, async () => {
    const s = await make();
    await s.write('acct\u0000https://one.example/jmap', { from: null, state: 's1', reset: true, set: [['a', ['$seen']]] });
    await s.write('acct\u0000https://two.example/jmap', { from: null, state: 's1', reset: true, set: [['a', ['$flagged']]] });
    assert.deepEqual(asObject((await s.load('acct\u0000https://one.example/jmap'))?.entries), { a: ['$seen'] });
    assert.deepEqual(asObject((await s.load('acct\u0000https://two.example/jmap'))?.entries), { a: ['$flagged'] });
    assert.equal(await s.load('acct'), null);
  });

  test(`${name}: a change since the state drops exactly its ids and moves the state; later reads add entries`, async () => {
    const s = await make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']], ['b', []], ['c', []]] });
    await s.write('a', { from: 's1', state: 's2', drop: ['b', 'zz'] });
    await s.write('a', { from: 's2', state: 's2', set: [['b', ['$answered']], ['d', []]] });
    const snap = await s.load('a');
    assert.equal(snap?.state, 's2');
    assert.deepEqual(asObject(snap?.entries), { a: ['$seen'], b: ['$answered'], c: [], d: [] });
  });

  test(`${name}: writes called back to back (not awaited one by one) apply in call order`, async () => {
    const s = await make();
    const ids = Array.from({ length: 30 }, (_, i) => `e${i}`);
    await Promise.all([
      s.write('a', { from: null, state: 's1', reset: true, set: ids.map((id) => [id, ['$seen']] as const) }),
      s.write('a', { from: 's1', state: 's2', drop: ['e0', 'e1'] }),
      s.write('a', { from: 's2', state: 's2', set: [['e0', []]] }),
      s.write('a', { from: 's2', state: 's3', drop: ['e2'] }),
    ]);
    const snap = await s.load('a');
    assert.equal(snap?.state, 's3');
    assert.deepEqual(asObject(snap?.entries), Object.fromEntries(ids.filter((id) => id !== 'e1' && id !== 'e2').map((id) => [id, id === 'e0' ? [] : ['$seen']])),
      'each write found the state the one before it left');
  });

  test(`${name}: a write from a state other than the stored one keeps nothing older`, async () => {
    const s = await make();
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
    const s = await make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']]] });
    await s.write('b', { from: null, state: 't1', reset: true, set: [['a', ['$seen']]] });
    await s.write('a', { from: 's1', state: null });
    assert.equal(await s.load('a'), null);
    assert.equal((await s.load('b'))?.state, 't1');
  });

  test(`${name}: reset replaces every entry`, async () => {
    const s = await make();
    await s.write('a', { from: null, state: 's1', reset: true, set: [['a', ['$seen']], ['b', []]] });
    await s.write('a', { from: 's1', state: 's1', reset: true, set: [['c', []]] });
    assert.deepEqual(asObject((await s.load('a'))?.entries), { c: [] });
  });

  test(`${name}: UNSEEN counts per key, replaced and forgotten`, async () => {
    const c = await makeCounts();
    assert.equal(await c.get('k1'), undefined);
    await c.set('k1', { count: 7, emailState: 's1' });
    await c.set('k2', { count: 0, emailState: 's1' });
    await c.set('k1', { count: 6, emailState: 's2' });
    assert.deepEqual(await c.get('k1'), { count: 6, emailState: 's2' });
    assert.deepEqual(await c.get('k2'), { count: 0, emailState: 's1' });
    await c.set('k2', null);
    assert.equal(await c.get('k2'), undefined);
  });

  test(`${name}: UNSEEN counts under STATUS's keys: mailboxes and accounts do not mix`, async () => {
    const c = await makeCounts();
    const key = (account: string, mailbox: string) => JSON.stringify(['https://jmap.example/.well-known/jmap', account, mailbox]);
    await c.set(key('acct', 'inbox'), { count: 3, emailState: 's1' });
    await c.set(key('acct', 'sent'), { count: 0, emailState: 's1' });
    await c.set(key('other', 'inbox'), { count: 9, emailState: 'z' });
    assert.deepEqual(await c.get(key('acct', 'inbox')), { count: 3, emailState: 's1' });
    assert.deepEqual(await c.get(key('acct', 'sent')), { count: 0, emailState: 's1' });
    assert.deepEqual(await c.get(key('other', 'inbox')), { count: 9, emailState: 'z' });
    assert.equal(await c.get(key('acct', 'trash')), undefined);
  });
}
