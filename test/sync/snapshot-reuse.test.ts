/**
 * Snapshot reuse in the sync engine (src/session/sync.ts `snapshotOf`): a warm sync reads the mailbox's one-row
 * state instead of its whole UID map while nothing changed, and reads the map again as soon as another writer (a
 * second process sharing the store, modelled by a second SqliteUidStore connection on the same file) changed
 * an entry, a mod-sequence or \Deleted's neighbour state: the result always equals a fresh read.
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
import { syncMailbox } from '../../src/session/sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'sync-snap-'));
let jmapStore: EmbeddedStore;
before(() => { jmapStore = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') }); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Counts whole-map reads (`snapshot`) made through a store. */
function counting(inner: UidStore): { store: UidStore; snapshots: () => number } {
  let n = 0;
  const store = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'snapshot') return (...a: unknown[]) => { n++; return (v as (...x: unknown[]) => unknown).apply(target, a); };
      return v.bind(target);
    },
  });
  return { store, snapshots: () => n };
}

test('a warm sync reuses the snapshot until another writer changes the map; the result equals a fresh read', async () => {
  jmapStore.createUser('snap', 'pw');
  for (let i = 0; i < 5; i++) {
    jmapStore.importMessage('snap', 'inbox', new TextEncoder().encode(`From: a@example.org\r\nSubject: s${i}\r\n\r\nb\r\n`), { receivedAt: new Date(Date.UTC(2024, 0, 1 + i)) });
  }
  const backend = await JmapBackend.connect(new JmapClient({
    sessionUrl: 'http://embedded.test/.well-known/jmap', auth: basicAuth('snap', 'pw'),
    fetch: (input, init) => jmapStore.fetch(new Request(input, init)),
  }));
  const inbox = (await backend.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  const path = join(dir, 'uidmap.sqlite');
  const a = counting(SqliteUidStore.open(path));
  const other = SqliteUidStore.open(path); // another gateway process on the same store

  await syncMailbox(backend, a.store, 'acct', inbox); // first sight: assigns UIDs (a commit: its map is not kept)
  const first = await syncMailbox(backend, a.store, 'acct', inbox); // reads the committed map once
  assert.equal(first.entries.length, 5);
  const reads = a.snapshots();
  const second = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads, 'nothing changed: no whole-map read');
  assert.deepEqual(second.entries, first.entries);
  assert.deepEqual(second.modseqs, first.modseqs);

  // Another process changes one message's mod-sequence (a STORE there): no version change, a new HIGHESTMODSEQ.
  const touched = await other.touch('acct', inbox, [first.entries[1]!.uid]);
  const afterTouch = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads + 1, 'a mod-sequence changed: read again');
  assert.equal(afterTouch.modseqs[1], touched, 'the other process\'s mod-sequence is seen');
  assert.deepEqual(afterTouch.modseqs, (await other.snapshot('acct', inbox)).modseqs);
  // ... and expunges another.
  await other.expunge('acct', inbox, [first.entries[3]!.uid]);
  const third = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads + 2, 'the map changed: read again');
  const fresh = await other.snapshot('acct', inbox);
  assert.deepEqual(third.entries, fresh.entries);
  assert.deepEqual(third.modseqs, fresh.modseqs);
  assert.ok(!third.entries.some((e) => e.uid === first.entries[3]!.uid), 'the other process\'s expunge is seen');

  // Another process assigns a UID (an APPEND there): assign moves UIDNEXT, not the version.
  jmapStore.importMessage('snap', 'inbox', new TextEncoder().encode('From: a@example.org\r\nSubject: new\r\n\r\nb\r\n'), { receivedAt: new Date(Date.UTC(2024, 1, 1)) });
  const [newId] = (await backend.listEmailIds(inbox)).ids.filter((id) => !first.entries.some((e) => e.emailId === id));
  const assigned = (await other.assign('acct', inbox, [newId!])).get(newId!)!;
  const fourth = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.deepEqual(fourth.entries.map((e) => e.uid), (await other.snapshot('acct', inbox)).entries.map((e) => e.uid));
  assert.ok(fourth.entries.some((e) => e.uid === assigned && e.emailId === newId), 'the other process\'s UID is used, no second one');
  await other.close();
  await a.store.close();
});
