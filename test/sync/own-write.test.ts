/**
 * sync.ts `settleOwnWrite`: the gateway's own keyword write gets one mod-sequence (RFC 7162 §3.1) and the UID map's
 * recorded state moves past it (UidStore.advanceSyncState) only when the write's `oldState` is the map's state, so
 * the next sync gives it no second one (§3.1.3). Checked against a fresh read of the store each time: a write racing
 * another writer advances nothing (the next sync bumps: conservative, never a lost change), and the process-wide
 * snapshot kept after an advance equals the store's map (no whole-map read needed, nothing stale).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JmapClient, basicAuth } from '../../src/backend/jmap/client.ts';
import { JmapBackend } from '../../src/backend/jmap/backend.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { UidStore } from '../../src/uidmap/store.ts';
import { catchUp, settleOwnWrite, syncMailbox } from '../../src/session/sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'sync-own-write-'));
let jmapStore: EmbeddedStore;
before(() => { jmapStore = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') }); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Counts whole-map reads. */
function counting(inner: UidStore): { store: UidStore; snapshots: () => number } {
  let n = 0;
  const store = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...x: unknown[]) => Promise<unknown>;
      if (prop === 'snapshot') return (...a: unknown[]) => { n++; return f.apply(target, a); };
      return f.bind(target);
    },
  });
  return { store, snapshots: () => n };
}

const raw = (s: string) => new TextEncoder().encode(`From: a@example.org\r\nSubject: ${s}\r\n\r\nb\r\n`);

async function setup(user: string) {
  jmapStore.createUser(user, 'pw');
  for (let i = 0; i < 4; i++) jmapStore.importMessage(user, 'inbox', raw(`m${i}`), { receivedAt: new Date(Date.UTC(2024, 0, 1 + i)) });
  const backend = await JmapBackend.connect(new JmapClient({
    sessionUrl: 'http://embedded.test/.well-known/jmap', auth: basicAuth(user, 'pw'),
    fetch: (input, init) => jmapStore.fetch(new Request(input, init)),
  }));
  const inbox = (await backend.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  return { backend, inbox };
}

test('an own write that started at the map\'s state: one mod-sequence, the map moves past it, the kept snapshot is the store\'s', async () => {
  const { backend, inbox } = await setup('own1');
  const path = join(dir, 'own1.sqlite');
  const a = counting(SqliteUidStore.open(path));
  const other = SqliteUidStore.open(path);
  const first = await syncMailbox(backend, a.store, 'acct', inbox);
  const [e1, e2] = first.entries;
  const states = await backend.updateKeywords([{ id: e1!.emailId, add: ['$flagged'], remove: [] }, { id: e2!.emailId, add: ['$seen'], remove: [] }]);
  assert.ok(states && states.oldState === first.emailState, `Email/set reported the states around the write: ${JSON.stringify(states)}`);
  const modseq = await settleOwnWrite(a.store, 'acct', inbox, [e1!.uid, e2!.uid], states);
  assert.equal(modseq, first.highestModseq + 1, 'one change, one new mod-sequence');
  const reads = a.snapshots();
  const next = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads, 'the snapshot kept after the write was reused');
  assert.equal(next.highestModseq, modseq, 'the next sync gave no second mod-sequence');
  assert.deepEqual(next.modseqs, [modseq, modseq, first.modseqs[2], first.modseqs[3]]);
  const truth = await other.snapshot('acct', inbox);
  assert.deepEqual({ entries: next.entries, modseqs: next.modseqs, h: next.highestModseq, s: next.emailState },
    { entries: truth.entries, modseqs: truth.modseqs, h: truth.highestModseq, s: truth.syncState });
  await a.store.close();
  await other.close();
});

test('a sync of this process that takes the own write in first (an IDLE session woken by its push): no second mod-sequence', async () => {
  const { backend, inbox } = await setup('own4');
  const store = SqliteUidStore.open(join(dir, 'own4.sqlite'));
  const first = await syncMailbox(backend, store, 'acct', inbox);
  const [e1, e2] = first.entries;
  const states = await backend.updateKeywords([{ id: e1!.emailId, add: ['$flagged'], remove: [] }, { id: e2!.emailId, add: ['$flagged'], remove: [] }]);
  // The other session's catch-up is queued before the writer settles (sync.ts serializes them in call order).
  const [other, modseq] = await Promise.all([
    catchUp(backend, store, 'acct', inbox, first.emailState),
    settleOwnWrite(store, 'acct', inbox, [e1!.uid, e2!.uid], states),
  ]);
  assert.ok(!('unchanged' in other));
  assert.equal(other.modseqs[0], first.highestModseq + 1, 'the catch-up gave the write its mod-sequence');
  assert.equal(modseq, other.modseqs[0], 'the writer answers the same one');
  const truth = await store.snapshot('acct', inbox);
  assert.equal(truth.highestModseq, first.highestModseq + 1, 'one change, one mod-sequence');
  assert.deepEqual(truth.modseqs.slice(0, 2), [modseq, modseq]);

  // The same race, but one of the UIDs is no live message (the commit cannot have touched it): the writer touches.
  const states2 = await backend.updateKeywords([{ id: e1!.emailId, add: ['$seen'], remove: [] }]);
  const [, modseq2] = await Promise.all([
    catchUp(backend, store, 'acct', inbox, states!.newState),
    settleOwnWrite(store, 'acct', inbox, [e1!.uid, 999], states2),
  ]);
  assert.equal(modseq2, (await store.snapshot('acct', inbox)).highestModseq);
  assert.ok(modseq2 > modseq + 1, 'touched again (conservative): never a change without a new mod-sequence');
  await store.close();
});

test('an own write racing a change by another JMAP client advances nothing: the next sync bumps both, nothing is lost', async () => {
  const { backend, inbox } = await setup('own2');
  const store = SqliteUidStore.open(join(dir, 'own2.sqlite'));
  const first = await syncMailbox(backend, store, 'acct', inbox);
  const [e1, , e3] = first.entries;
  await backend.updateKeywords([{ id: e3!.emailId, add: ['$junk'], remove: [] }]); // a webmail, before our write
  const states = await backend.updateKeywords([{ id: e1!.emailId, add: ['$flagged'], remove: [] }]);
  assert.ok(states && states.oldState !== first.emailState);
  const modseq = await settleOwnWrite(store, 'acct', inbox, [e1!.uid], states);
  assert.equal((await store.openMailbox('acct', inbox)).syncState, first.emailState, 'the map still records the old state');
  const next = await syncMailbox(backend, store, 'acct', inbox);
  assert.equal(next.modseqs[2], modseq + 1, 'the webmail change got its mod-sequence');
  assert.ok(next.changed.some((m) => m.id === e3!.emailId && m.keywords.includes('$junk')));
  assert.ok(next.modseqs[0]! >= modseq, 'the own write keeps at least its value (bumped again: conservative)');
  assert.equal(next.modseqs[1], first.modseqs[1], 'untouched messages keep theirs');
  await store.close();
});

test('the states of an own write are reported only when its Email/set batches chain (RFC 8620 §5.3 oldState/newState)', async () => {
  // A server allowing 2 objects per /set and 2 calls per request: 5 updates take 3 batches, one request each.
  const small = openEmbeddedStore({ dbPath: join(dir, 'small.sqlite'), limits: { maxObjectsInSet: 2, maxObjectsInGet: 2, maxCallsInRequest: 2 } });
  small.createUser('own3', 'pw');
  for (let i = 0; i < 5; i++) small.importMessage('own3', 'inbox', raw(`b${i}`), { receivedAt: new Date(Date.UTC(2024, 0, 1 + i)) });
  let between: (() => void) | null = null; // runs before the next JMAP API request: another client's write
  const backend = await JmapBackend.connect(new JmapClient({
    sessionUrl: 'http://embedded.test/.well-known/jmap', auth: basicAuth('own3', 'pw'),
    fetch: (input, init) => {
      const req = new Request(input, init);
      if (req.method === 'POST' && between) { const f = between; between = null; f(); }
      return small.fetch(req);
    },
  }));
  const inbox = (await backend.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  const listing = await backend.listEmailIds(inbox);
  const states = await backend.updateKeywords(listing.ids.map((id) => ({ id, add: ['$flagged'], remove: [] })));
  assert.ok(states, 'consecutive batches chain');
  assert.equal(states.oldState, listing.emailState);
  const ch = await backend.emailChanges(states.oldState);
  assert.equal(ch.newState, states.newState, 'newState is the state after the last batch');
  assert.deepEqual(new Set(ch.updated), new Set(listing.ids));
  assert.equal(await backend.updateKeywords(listing.ids.map((id) => ({ id, add: [], remove: [] }))), null, 'nothing written: no states');

  // Another client writes between the write's first request and its second (3 batches, one per request): no states.
  const hookAfterFirst = (): void => { between = () => { small.importMessage('own3', 'inbox', raw('racer'), { receivedAt: new Date() }); }; };
  between = hookAfterFirst; // before the first request: arms the racer for the second
  const raced = await backend.updateKeywords(listing.ids.map((id) => ({ id, add: ['$seen'], remove: [] })));
  assert.equal(raced, null, 'a change between two batches: the write is not one chain');
});
