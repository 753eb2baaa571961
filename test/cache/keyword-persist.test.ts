/**
 * The keyword cache over a KeywordStore (src/session/keyword-cache.ts, src/cache/keyword-store.ts): a new cache
 * (a restarted gateway) trusts the stored entries only through the state they were stored at and `Email/changes`
 * since it (RFC 8620 §5.2); cannotCalculateChanges empties the store too; only changes are written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountKeywords } from '../../src/session/keyword-cache.ts';
import { MemoryKeywordStore, type KeywordWrite } from '../../src/cache/keyword-store.ts';
import { BackendError, type Changes, type MailBackend } from '../../src/backend/backend.ts';

/** A backend whose only method is Email/changes, answering from a script and recording the states asked from. */
function changesBackend(answer: (since: string) => Changes | Error, asked: string[] = []): MailBackend {
  return { emailChanges: async (since: string) => { asked.push(since); const a = answer(since); if (a instanceof Error) throw a; return a; } } as unknown as MailBackend;
}
const none = (since: string): Changes => ({ oldState: since, newState: since, hasMoreChanges: false, created: [], updated: [], destroyed: [] });
const meta = (id: string, keywords: string[]) => ({ id, blobId: `b${id}`, threadId: 't', mailboxIds: [], keywords, size: 1, receivedAt: '2024-01-01T00:00:00Z' });

/** A memory store that records the writes it gets. */
class Recording extends MemoryKeywordStore {
  writes: KeywordWrite[] = [];
  override async write(account: string, w: KeywordWrite): Promise<void> {
    this.writes.push(w);
    return super.write(account, w);
  }
}

test('a new cache over the same store claims the stored state and brings it forward with Email/changes', async () => {
  const store = new MemoryKeywordStore();
  const k1 = new AccountKeywords(store, 'acct');
  await k1.refresh(changesBackend(() => new Error('nothing stored: nothing to ask')));
  k1.record('s1', [meta('a', ['$seen']), meta('b', [])]);

  const k2 = new AccountKeywords(store, 'acct');
  assert.equal(k2.get('b'), undefined, 'nothing is trusted before the refresh that loads it');
  const asked: string[] = [];
  await k2.refresh(changesBackend((since) => ({ oldState: since, newState: 's2', hasMoreChanges: false, created: [], updated: ['a'], destroyed: [] }), asked));
  assert.deepEqual(asked, ['s1'], 'changes since the stored state');
  assert.equal(k2.state, 's2');
  assert.equal(k2.get('a'), undefined, 'a changed since s1: read again');
  assert.deepEqual(k2.get('b'), []);

  const k3 = new AccountKeywords(store, 'acct');
  const asked3: string[] = [];
  await k3.refresh(changesBackend(none, asked3));
  assert.deepEqual(asked3, ['s2'], 'the moved state was stored');
  assert.equal(k3.get('a'), undefined, 'and the dropped id with it');
  assert.deepEqual(k3.get('b'), []);
  assert.equal(new AccountKeywords(store, 'other').get('b'), undefined);
});

test('cannotCalculateChanges after a restart empties the stored account as well', async () => {
  const store = new MemoryKeywordStore();
  const k1 = new AccountKeywords(store, 'acct');
  await k1.refresh(changesBackend(none));
  k1.record('s1', [meta('a', ['$seen'])]);
  const k2 = new AccountKeywords(store, 'acct');
  await k2.refresh(changesBackend(() => new BackendError('NO', 'x', undefined, 'cannotCalculateChanges')));
  assert.equal(k2.state, null);
  assert.equal(k2.get('a'), undefined);
  assert.equal(await store.load('acct'), null);
});

test('only changes are written: nothing for an unchanged refresh or for keywords already stored', async () => {
  const store = new Recording();
  const k = new AccountKeywords(store, 'acct');
  await k.refresh(changesBackend(none));
  k.record('s1', [meta('a', ['$seen']), meta('b', [])]);
  assert.equal(store.writes.length, 1);
  await k.refresh(changesBackend(none));
  k.record('s1', [meta('a', ['$seen']), meta('b', [])]);
  assert.equal(store.writes.length, 1, 'the same keywords at the same state: no write');
  await k.refresh(changesBackend((since) => ({ oldState: since, newState: 's2', hasMoreChanges: false, created: [], updated: ['b'], destroyed: [] })));
  k.record('s2', [meta('a', ['$seen']), meta('b', ['$flagged'])]);
  assert.equal(store.writes.length, 3);
  assert.deepEqual(store.writes[1], { from: 's1', state: 's2', drop: ['b'] });
  assert.deepEqual(store.writes[2]!.set, [['b', ['$flagged']]], 'only b, read again');
});

test('a store that fails a write is no longer used and is asked to forget the account', async () => {
  const store = new Recording();
  const k = new AccountKeywords(store, 'acct');
  await k.refresh(changesBackend(none));
  k.record('s1', [meta('a', ['$seen'])]);
  let fail = true;
  const real = store.write.bind(store);
  store.write = async (account, w) => {
    if (fail) { fail = false; throw new Error('disk full'); }
    return real(account, w);
  };
  await k.refresh(changesBackend((since) => ({ oldState: since, newState: 's2', hasMoreChanges: false, created: [], updated: ['a'], destroyed: [] })));
  await new Promise((r) => setImmediate(r));
  assert.equal(await store.load('acct'), null, 'the stored s1 entries were dropped, not left claiming s1');
  k.record('s2', [meta('a', [])]);
  assert.deepEqual(k.get('a'), [], 'the cache itself keeps working in memory');
  assert.equal(await store.load('acct'), null, 'and writes no more');
});
