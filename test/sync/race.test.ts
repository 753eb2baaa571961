/**
 * The sync engine under concurrency (src/session/sync.ts, DESIGN.md rules 1-4): two "processes" (two SqliteUidStore
 * connections on one file, two JmapBackends) syncing one mailbox of the embedded JMAP store at once.
 *
 * The ghost race (issue 4): sync A lists the mailbox (email X present); before A commits, sync B gives X a UID,
 * X leaves the mailbox, and B expunges its UID. A must not then give X a new UID: X is gone (RFC 9051 §2.3.1.1
 * UIDs are never reused, and a message that is not in the mailbox must not be shown). The delays are gates, not
 * timers: deterministic.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JmapClient, basicAuth } from '../../src/backend/jmap/client.ts';
import { JmapBackend } from '../../src/backend/jmap/backend.ts';
import type { MailBackend } from '../../src/backend/backend.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { catchUp, syncMailbox } from '../../src/session/sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'sync-race-'));
let jmapStore: EmbeddedStore;
let n = 0;

function raw(i: number): Uint8Array {
  return new TextEncoder().encode(`From: a@example.org\r\nSubject: m${i}\r\nMessage-ID: <r${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

/** A fresh user (so tests do not share mailboxes) and a backend factory over the in-process store. */
function user(): { name: string; backend: () => Promise<JmapBackend> } {
  const name = `u${n++}`;
  jmapStore.createUser(name, 'pw');
  return {
    name,
    backend: () => JmapBackend.connect(new JmapClient({
      sessionUrl: 'http://embedded.test/.well-known/jmap', auth: basicAuth(name, 'pw'),
      fetch: (input, init) => jmapStore.fetch(new Request(input, init)),
    })),
  };
}

/** A promise to hold a call at, and the function that releases it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => { open = r; });
  return { wait, open };
}

/** Delegates to `inner`, but `method` returns its (real, now stale) result only after `hold` opens. */
function holding<K extends 'listEmailIds' | 'getEmails'>(inner: MailBackend, method: K, reached: () => void, hold: Promise<void>): MailBackend {
  return new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (prop !== method || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      return async (...args: unknown[]) => {
        const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        reached();
        await hold;
        return result;
      };
    },
  });
}

/** Counts the calls of each backend method. */
function counting(inner: MailBackend, counts: Map<string, number>): MailBackend {
  return new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        counts.set(String(prop), (counts.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function destroy(b: JmapBackend, id: string): Promise<void> {
  await b.destroyEmails([id]);
}

before(() => {
  jmapStore = openEmbeddedStore({ dbPath: ':memory:' });
});
after(() => {
  jmapStore.close();
  rmSync(dir, { recursive: true, force: true });
});

test('ghost race, first sync: a listing made before another process assigned and expunged X gives X no new UID', async () => {
  const u = user();
  const db = join(dir, `ghost-full-${u.name}.sqlite`);
  const storeA = SqliteUidStore.open(db);
  const storeB = SqliteUidStore.open(db); // a second connection: another gateway process
  const [bA, bB] = [await u.backend(), await u.backend()];
  const inbox = (await bA.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  const keep = jmapStore.importMessage(u.name, 'inbox', raw(1)).emailId;
  const x = jmapStore.importMessage(u.name, 'inbox', raw(2)).emailId;

  const reached = gate();
  const hold = gate();
  const syncA = syncMailbox(holding(bA, 'listEmailIds', reached.open, hold.wait), storeA, u.name, inbox);
  await reached.wait; // A has listed: keep and X
  const first = await syncMailbox(bB, storeB, u.name, inbox); // B maps keep (1) and X (2)
  assert.deepEqual(first.entries.map((e) => e.emailId), [keep, x]);
  await destroy(bB, x); // X leaves (a webmail deletes it)
  const second = await syncMailbox(bB, storeB, u.name, inbox);
  assert.deepEqual(second.entries.map((e) => e.emailId), [keep], 'B expunged X');
  hold.open();
  const a = await syncA;

  assert.deepEqual(a.entries, [{ uid: 1, emailId: keep }], 'A shows only what is in the mailbox, with the UIDs B gave');
  assert.ok(a.retries >= 1, 'A noticed the map moved and started over');
  const final = await storeA.snapshot(u.name, inbox);
  assert.deepEqual(final.entries, [{ uid: 1, emailId: keep }], 'no ghost UID for X in the store');
  assert.equal(final.uidNext, 3, 'no UID issued after X left');
  await storeA.close();
  await storeB.close();
});

test('ghost race, incremental sync: stale Email/get of the changes cannot map X back after B expunged it', async () => {
  const u = user();
  const db = join(dir, `ghost-inc-${u.name}.sqlite`);
  const storeA = SqliteUidStore.open(db);
  const storeB = SqliteUidStore.open(db);
  const [bA, bB] = [await u.backend(), await u.backend()];
  const inbox = (await bA.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  jmapStore.importMessage(u.name, 'inbox', raw(1));
  const base = await syncMailbox(bA, storeA, u.name, inbox);
  assert.equal(base.entries.length, 1);
  const x = jmapStore.importMessage(u.name, 'inbox', raw(2)).emailId; // X arrives: both will see it as a change

  const reached = gate();
  const hold = gate();
  const syncA = syncMailbox(holding(bA, 'getEmails', reached.open, hold.wait), storeA, u.name, inbox);
  await reached.wait; // A has read X's mailboxIds: "in the inbox"
  const seen = await syncMailbox(bB, storeB, u.name, inbox);
  assert.equal(seen.entries.find((e) => e.emailId === x)?.uid, 2, 'B maps X to UID 2');
  await destroy(bB, x);
  const gone = await syncMailbox(bB, storeB, u.name, inbox);
  assert.equal(gone.entries.some((e) => e.emailId === x), false, 'B expunged X');
  hold.open();
  const a = await syncA;

  assert.equal(a.entries.some((e) => e.emailId === x), false, 'A does not map X again');
  assert.ok(a.retries >= 1);
  const final = await storeA.snapshot(u.name, inbox);
  assert.deepEqual(final.entries.map((e) => e.uid), [1]);
  assert.equal(final.uidNext, 3);
  await storeA.close();
  await storeB.close();
});

test('catchUp: one Email/changes and no store read when nothing changed; every change since the view state even after another session synced past it', async () => {
  const u = user();
  const store = SqliteUidStore.open(join(dir, `catchup-${u.name}.sqlite`));
  const counts = new Map<string, number>();
  const b = await u.backend();
  const inbox = (await b.listMailboxes()).mailboxes.find((m) => m.role === 'inbox')!.id;
  const y = jmapStore.importMessage(u.name, 'inbox', raw(1)).emailId;
  const view = await syncMailbox(b, store, u.name, inbox); // the view's state S0
  const reads: string[] = [];
  const watched = new Proxy(store, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r) as unknown;
      return typeof v === 'function' ? (...a: unknown[]) => { reads.push(String(p)); return (v as (...x: unknown[]) => unknown).apply(t, a); } : v;
    },
  });

  const idle = await catchUp(counting(b, counts), watched, u.name, inbox, view.emailState);
  assert.ok('unchanged' in idle);
  assert.deepEqual([...counts], [['emailChanges', 1]], 'one Email/changes, nothing else');
  assert.deepEqual(reads, [], 'the UID store is not read');

  // A webmail flags Y; another session's sync (NOOP) brings the map to the new state first.
  await b.updateKeywords([{ id: y, add: ['$flagged'], remove: [] }]);
  await syncMailbox(b, store, u.name, inbox);
  counts.clear();
  const late = await catchUp(counting(b, counts), store, u.name, inbox, view.emailState);
  assert.ok(!('unchanged' in late));
  assert.deepEqual(late.changed.map((m) => [m.id, m.keywords]), [[y, ['$flagged']]], 'the lagging view still learns Y was flagged');
  assert.equal(counts.get('emailChanges'), 1, 'Email/changes once (not once more inside the sync)');
  assert.equal(counts.get('getEmails'), 1, 'keywords come with the one Email/get of the sync');
  await store.close();
});
