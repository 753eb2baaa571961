/**
 * SqliteUidStore durability (src/uidmap/sqlite.ts header): what JMAP can give again (a sync's commit of other
 * writers' keyword changes, the recorded sync state) commits without an fsync, so a power loss may lose the last of
 * it; RFC 7162 §3.1 still holds for clients: a mod-sequence they were shown is never issued again for another change. Simulated here by restoring the files as they were at the last durable
 * (FULL) commit, with another OS boot recorded, as after a power cut and a reboot.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'uidmap-durable-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `store-${n++}.db`);
const FILES = ['', '-wal', '-shm'];

/** Copy the database files (the image a power cut would leave if nothing after this was synced). */
function image(path: string, to: string): void {
  for (const f of FILES) if (existsSync(path + f)) copyFileSync(path + f, to + f);
}
function restore(from: string, path: string): void {
  for (const f of FILES) rmSync(path + f, { force: true });
  for (const f of FILES) if (existsSync(from + f)) copyFileSync(from + f, path + f);
}
function recordBoot(path: string, boot: string | null): void {
  const db = new Database(path);
  db.prepare('UPDATE store_meta SET boot_id = ? WHERE id = 1').run(boot);
  db.close();
}
/**
 * A sync's commit of another writer's keyword change to `emailId` (no UID handed out or removed: an unsynced write);
 * returns the mod-sequence it gave.
 */
async function syncTouch(store: SqliteUidStore, emailId: string, state: string): Promise<number> {
  const { version } = await store.openMailbox('a', 'INBOX');
  const done = await store.commitSync('a', 'INBOX', { version, expunge: [], assign: [], syncState: state, touch: [emailId] });
  return done!.state.highestModseq;
}

const rawRow = (path: string) => {
  const db = new Database(path, { readonly: true });
  const row = db.prepare('SELECT highest, ceiling FROM mailbox_modseq').get() as { highest: number; ceiling: number };
  db.close();
  return row;
};

test('after a power cut that lost unsynced flag writes and a reboot, no mod-sequence a client saw is issued again', async () => {
  const path = freshPath();
  let store = SqliteUidStore.open(path);
  const uids = await store.assign('a', 'INBOX', ['e1', 'e2']); // a durable write: UIDs
  await store.close();
  const durable = `${path}.durable`;
  image(path, durable);
  store = SqliteUidStore.open(path);
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) seen.push(await syncTouch(store, 'e1', `S${i}`)); // unsynced
  await store.close();
  restore(durable, path);
  recordBoot(path, 'a boot before the cut');
  store = SqliteUidStore.open(path);
  assert.equal((await store.openMailbox('a', 'INBOX')).uidNext, 3, 'the UIDs handed out survived');
  const highest = (await store.openMailbox('a', 'INBOX')).highestModseq;
  assert.ok(highest >= Math.max(...seen), `HIGHESTMODSEQ ${highest} is at least every value shown (${Math.max(...seen)})`);
  const next = await store.touch('a', 'INBOX', [uids.get('e2')!]); // the gateway's own flag change
  assert.ok(next > Math.max(...seen), `the next change gets ${next}, above every value shown`);
  await store.close();
});

test('a restart in the same OS boot keeps HIGHESTMODSEQ as it was (no jump without a reboot)', async () => {
  const path = freshPath();
  let store = SqliteUidStore.open(path);
  const uids = await store.assign('a', 'INBOX', ['e1']);
  const before = await store.touch('a', 'INBOX', [uids.get('e1')!]);
  await store.close();
  store = SqliteUidStore.open(path);
  assert.equal((await store.openMailbox('a', 'INBOX')).highestModseq, before);
  assert.equal(await store.touch('a', 'INBOX', [uids.get('e1')!]), before + 1);
  await store.close();
});

test('every issued mod-sequence stays within the stored durable ceiling, across many unsynced writes', async () => {
  const path = freshPath();
  const store = SqliteUidStore.open(path);
  await store.assign('a', 'INBOX', ['e1']);
  for (let i = 0; i < 1_200; i++) {
    const m = await syncTouch(store, 'e1', `S${i}`);
    if (i % 100 === 0 || i > 1_190) {
      const row = rawRow(path);
      assert.equal(row.highest, m);
      assert.ok(row.ceiling >= m, `ceiling ${row.ceiling} >= issued ${m}`);
    }
  }
  await store.close();
});

test('a store from before the ceiling (schema 004 rows, ceiling 0) raises it with its first write', async () => {
  const path = freshPath();
  let store = SqliteUidStore.open(path);
  await store.assign('a', 'INBOX', ['e1']);
  await store.close();
  const db = new Database(path);
  db.prepare('UPDATE mailbox_modseq SET ceiling = 0').run();
  db.close();
  store = SqliteUidStore.open(path);
  const m = await syncTouch(store, 'e1', 'S1');
  assert.ok(rawRow(path).ceiling >= m);
  await store.close();
});
