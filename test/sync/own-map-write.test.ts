/**
 * sync.ts `assignOwn` (APPEND/COPY destinations) and `settleOwnWrite`'s touch (STORE) keep the process-wide snapshot
 * with the write applied only when the store's numbers prove the write was the only change since that snapshot
 * (store.ts: every write that changes an entry or a mod-sequence takes exactly one new HIGHESTMODSEQ). Then the next
 * sync reads one row, and its map equals a fresh read of the store. When another process (a second handle on the
 * same SQLite file) writes in between, the snapshot is dropped and the map read again: nothing of the other write
 * is lost (a wrong kept map would be a wrong UID map).
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
import { assignOwn, settleOwnWrite, syncMailbox } from '../../src/session/sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'sync-own-map-'));
let jmapStore: EmbeddedStore;
before(() => { jmapStore = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') }); });
after(() => rmSync(dir, { recursive: true, force: true }));

type Hook = { fn: (() => Promise<void>) | null };

/** Counts whole-map reads; `beforeWrite.fn` runs once just before the next `assign` or `touch` reaches the store. */
function instrumented(inner: UidStore): { store: UidStore; snapshots: () => number; beforeWrite: Hook } {
  let n = 0;
  const hook: Hook = { fn: null };
  const store = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...x: unknown[]) => Promise<unknown>;
      if (prop === 'snapshot') return (...a: unknown[]) => { n++; return f.apply(target, a); };
      if (prop === 'assign' || prop === 'touch') return async (...a: unknown[]) => { const h = hook.fn; hook.fn = null; await h?.(); return f.apply(target, a); };
      return f.bind(target);
    },
  });
  return { store, snapshots: () => n, beforeWrite: hook };
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
  const path = join(dir, `${user}.sqlite`);
  const a = instrumented(SqliteUidStore.open(path));
  const other = SqliteUidStore.open(path); // another gateway process on the same store
  const fresh = async () => { const f = await other.snapshot('acct', inbox); return [f.entries, f.modseqs]; };
  /** A message APPENDed through JMAP (as append.ts does before `assign`): its new email id. */
  const appendJmap = async (subject: string) => {
    const before = new Set((await backend.listEmailIds(inbox)).ids);
    jmapStore.importMessage(user, 'inbox', raw(subject), { receivedAt: new Date(Date.UTC(2024, 1, 1)) });
    return (await backend.listEmailIds(inbox)).ids.find((id) => !before.has(id))!;
  };
  return { backend, inbox, a, other, fresh, appendJmap };
}

test('an own assign alone: the kept map has the new UID and equals the store\'s; the next sync reads no whole map', async () => {
  const { backend, inbox, a, other, fresh, appendJmap } = await setup('oma1');
  const first = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(first.entries.length, 4);
  const reads = a.snapshots();
  const id = await appendJmap('appended');
  const assigned = await assignOwn(a.store, 'acct', inbox, [id]);
  assert.ok(assigned.get(id)! > first.entries.at(-1)!.uid, 'a new UID above every other (RFC 9051 §2.3.1.1)');
  const next = await syncMailbox(backend, a.store, 'acct', inbox); // sees the import, already mapped: the kept map
  assert.equal(a.snapshots(), reads, 'no whole-map read after the own assign');
  assert.deepEqual([next.entries, next.modseqs], await fresh());
  assert.ok(next.entries.some((e) => e.emailId === id && e.uid === assigned.get(id)));
  await other.close();
  await a.store.close();
});

test('an own assign racing another process\'s assign: the map is read again, the other UID is not lost', async () => {
  const { backend, inbox, a, other, fresh, appendJmap } = await setup('oma2');
  await syncMailbox(backend, a.store, 'acct', inbox);
  const reads = a.snapshots();
  const id = await appendJmap('appended');
  let foreign = 0; // an id this process's JMAP changes never mention: only the store knows it
  a.beforeWrite.fn = async () => { foreign = (await other.assign('acct', inbox, ['foreign-email'])).get('foreign-email')!; };
  await assignOwn(a.store, 'acct', inbox, [id]);
  assert.ok(foreign > 0, 'the racing assign ran');
  const next = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads + 1, 'another writer came between: the map is read again');
  assert.deepEqual([next.entries, next.modseqs], await fresh());
  assert.ok(next.entries.some((e) => e.uid === foreign && e.emailId === 'foreign-email'));
  await other.close();
  await a.store.close();
});

test('an own touch whose states did not advance the map: the kept map has the new mod-sequence and equals the store\'s', async () => {
  const { backend, inbox, a, other, fresh } = await setup('oma3');
  const first = await syncMailbox(backend, a.store, 'acct', inbox);
  const reads = a.snapshots();
  const uid = first.entries[1]!.uid;
  const modseq = await settleOwnWrite(a.store, 'acct', inbox, [uid], null); // no states: nothing to advance
  assert.equal(modseq, first.highestModseq + 1, 'one new mod-sequence (RFC 7162 §3.1)');
  const next = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads, 'no whole-map read after the own touch');
  assert.deepEqual([next.entries, next.modseqs], await fresh());
  assert.equal(next.modseqs[1], modseq);
  assert.equal(next.highestModseq, modseq);
  await other.close();
  await a.store.close();
});

test('an own touch racing another process\'s touch: the map is read again, the other mod-sequence is not lost', async () => {
  const { backend, inbox, a, other, fresh } = await setup('oma4');
  const first = await syncMailbox(backend, a.store, 'acct', inbox);
  const reads = a.snapshots();
  const [e0, e1] = first.entries;
  let theirs = 0;
  a.beforeWrite.fn = async () => { theirs = await other.touch('acct', inbox, [e0!.uid]); };
  const mine = await settleOwnWrite(a.store, 'acct', inbox, [e1!.uid], null);
  assert.ok(theirs > first.highestModseq && mine > theirs);
  const next = await syncMailbox(backend, a.store, 'acct', inbox);
  assert.equal(a.snapshots(), reads + 1, 'another writer came between: the map is read again');
  assert.deepEqual([next.entries, next.modseqs], await fresh());
  assert.deepEqual(next.modseqs.slice(0, 2), [theirs, mine]);
  await other.close();
  await a.store.close();
});
