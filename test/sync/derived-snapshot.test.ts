/**
 * The map a sync commit derives is kept for the next sync (src/session/sync.ts `commit` / `remember`) only when the
 * commit proves no other writer came between its snapshot and its commit (HIGHESTMODSEQ moved by exactly its own
 * one change, store.ts): then a SELECT after new mail reads one row instead of the whole map. When another process
 * assigned a UID (an APPEND there) or touched a mod-sequence in between, the derived map would lack that change:
 * it is not kept, the next sync reads the map again, and every result equals a fresh read of the store.
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

const dir = mkdtempSync(join(tmpdir(), 'sync-derived-'));
let jmapStore: EmbeddedStore;
before(() => { jmapStore = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') }); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Counts whole-map reads; `beforeCommit` runs just before a `commitSync` goes to the store (a racing writer). */
function instrumented(inner: UidStore): { store: UidStore; snapshots: () => number; beforeCommit: { fn: (() => Promise<void>) | null } } {
  let n = 0;
  const hook: { fn: (() => Promise<void>) | null } = { fn: null };
  const store = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...x: unknown[]) => Promise<unknown>;
      if (prop === 'snapshot') return (...a: unknown[]) => { n++; return f.apply(target, a); };
      if (prop === 'commitSync') return async (...a: unknown[]) => { const h = hook.fn; hook.fn = null; await h?.(); return f.apply(target, a); };
      return f.bind(target);
    },
  });
  return { store, snapshots: () => n, beforeCommit: hook };
}

const raw = (s: string) => new TextEncoder().encode(`From: a@example.org\r\nSubject: ${s}\r\n\r\nb\r\n`);

test('a commit\'s own map is reused when no other writer came between; not when one did', async () => {
  jmapStore.createUser('der', 'pw');
  for (let i = 0; i < 4; i++) jmapStore.importMessage('der', 'inbox', raw(`m${i}`), { receivedAt: new Date(Date.UTC(2024, 0, 1 + i)) });
  const backend = await JmapBackend.connect(new JmapClient({
    sessionUrl: 'http://embedded.test/.well-known/jmap', auth: basicAuth('der', 'pw'),
    fetch: (input, init) => jmapStore.fetch(new Request(input, init)),
  }));
  const inbox = (await backend.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  const path = join(dir, 'uidmap.sqlite');
  const a = instrumented(SqliteUidStore.open(path));
  const other = SqliteUidStore.open(path); // another gateway process on the same store
  const fresh = async () => other.snapshot('acct', inbox);

  const first = await syncMailbox(backend, a.store, 'acct', inbox); // first sight: one read, then a commit
  assert.equal(first.entries.length, 4);
  const reads = a.snapshots();
  const warm = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads, 'the first commit\'s map was kept: no whole-map read');
  assert.deepEqual([warm.entries, warm.modseqs], [(await fresh()).entries, (await fresh()).modseqs]);

  // New mail arrives in JMAP: this sync assigns its UID and keeps the map it derived.
  jmapStore.importMessage('der', 'inbox', raw('new1'), { receivedAt: new Date(Date.UTC(2024, 1, 1)) });
  const arrived = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(arrived.entries.length, 5);
  const next = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads, 'the map after new mail is known: still no whole-map read');
  assert.deepEqual([next.entries, next.modseqs], [(await fresh()).entries, (await fresh()).modseqs]);

  // New mail again, and another process assigns a UID to yet another email just before this sync commits.
  jmapStore.importMessage('der', 'inbox', raw('new2'), { receivedAt: new Date(Date.UTC(2024, 1, 2)) });
  jmapStore.importMessage('der', 'inbox', raw('new3'), { receivedAt: new Date(Date.UTC(2024, 1, 3)) });
  const known = new Set(next.entries.map((e) => e.emailId));
  const [id2, id3] = (await backend.listEmailIds(inbox)).ids.filter((id) => !known.has(id));
  let foreignUid = 0;
  a.beforeCommit.fn = async () => { foreignUid = (await other.assign('acct', inbox, [id3!])).get(id3!)!; };
  const raced = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.ok(foreignUid > 0, 'the racing assign ran');
  assert.ok(raced.entries.some((e) => e.emailId === id2), 'this sync\'s own arrival');
  const afterRace = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads + 1, 'another writer came between: the derived map was not kept, the map is read again');
  assert.deepEqual([afterRace.entries, afterRace.modseqs], [(await fresh()).entries, (await fresh()).modseqs]);
  assert.ok(afterRace.entries.some((e) => e.uid === foreignUid && e.emailId === id3), 'the other process\'s UID is there, no second one');

  // A mod-sequence touched by another process between snapshot and commit (a STORE there) is not lost either.
  await backend.updateKeywords([{ id: id2!, add: ['$flagged'], remove: [] }]); // a change this sync will see
  let touched = 0;
  a.beforeCommit.fn = async () => { touched = await other.touch('acct', inbox, [afterRace.entries[0]!.uid]); };
  await syncMailbox(backend, a.store, 'acct', inbox);
  assert.ok(touched > 0);
  const afterTouch = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.deepEqual([afterTouch.entries, afterTouch.modseqs], [(await fresh()).entries, (await fresh()).modseqs]);
  assert.equal(afterTouch.modseqs[0], touched);
  await other.close();
  await a.store.close();
});
