/**
 * SqliteUidStore: the UidStore contract on a database file (with restart), schema versioning, UIDVALIDITY across a
 * rebuilt database, several connections and several processes sharing one file, and 100,000-message mailboxes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { runUidStoreContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'uidmap-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `store-${process.pid}-${n++}.db`);

runUidStoreContract('SqliteUidStore', async () => {
  const path = freshPath();
  return { store: SqliteUidStore.open(path), reopen: async () => SqliteUidStore.open(path) };
}, { persistent: true });

/** The schema as SQLite sees it: every table/index definition, white space normalized. */
/**
 * The logical schema: each table's columns (name, type, NOT NULL, default, key position), foreign keys, rowid-ness
 * and indexes; not the CREATE text, which differs after an ALTER TABLE ADD COLUMN (migrations) for the same columns.
 */
function schemaOf(path: string): string[] {
  const db = new Database(path, { readonly: true });
  const objects = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{ type: string; name: string; sql: string | null }>;
  const out = objects.flatMap((o) => {
    if (o.type === 'index') return [`index ${o.name}: ${(o.sql ?? '').replace(/\s+/g, ' ')}`];
    const cols = db.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)').all(o.name) as Array<Record<string, unknown>>;
    const fks = db.prepare('SELECT "from", "table", "to" FROM pragma_foreign_key_list(?)').all(o.name) as Array<Record<string, unknown>>;
    const withoutRowid = /WITHOUT ROWID\s*$/i.test(o.sql ?? '');
    return [`${o.type} ${o.name}${withoutRowid ? ' (without rowid)' : ''}: ${JSON.stringify(cols)} fk ${JSON.stringify(fks)}`];
  });
  db.close();
  return out;
}

test('SqliteUidStore: a fresh file (uidmap.sql) and a version-0 file brought up by migrations have the same schema', async () => {
  const fresh = freshPath();
  await SqliteUidStore.open(fresh).close();
  const migrated = freshPath();
  const db = new Database(migrated);
  db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (0);');
  db.close();
  await SqliteUidStore.open(migrated).close();
  assert.deepEqual(schemaOf(migrated), schemaOf(fresh));
  const check = new Database(migrated, { readonly: true });
  assert.equal(check.prepare('SELECT version FROM schema_version').pluck().get(), 5); // 005: mod-sequence ceiling
  assert.equal(check.pragma('journal_mode', { simple: true }), 'wal');
  check.close();
});

test('SqliteUidStore: refuses a database of a newer schema version or of unknown shape', async () => {
  const newer = freshPath();
  await SqliteUidStore.open(newer).close();
  const db = new Database(newer);
  db.exec('UPDATE schema_version SET version = 999');
  db.close();
  assert.throws(() => SqliteUidStore.open(newer), /newer/);
  const foreign = freshPath();
  const f = new Database(foreign);
  f.exec('CREATE TABLE something_else (x)');
  f.close();
  assert.throws(() => SqliteUidStore.open(foreign), /schema_version/);
});

test('SqliteUidStore: schema/uidmap.sql declares the lookup indexes of the brief', () => {
  const sql = readFileSync(fileURLToPath(new URL('../../schema/uidmap.sql', import.meta.url)), 'utf8');
  assert.match(sql, /PRIMARY KEY \(mbox, uid\)/);
  assert.match(sql, /UNIQUE INDEX uid_map_by_email ON uid_map \(mbox, email_id\)/);
  assert.match(sql, /UNIQUE \(account, mailbox_id\)/);
});

test('SqliteUidStore: a deleted and recreated database still issues larger UIDVALIDITY values (clock seed)', async () => {
  const path = freshPath();
  let now = 1_800_000_000_000;
  const first = SqliteUidStore.open(path, { now: () => now });
  const v1 = (await first.openMailbox('a', 'inbox')).uidValidity;
  const v2 = (await first.openMailbox('a', 'sent')).uidValidity;
  assert.deepEqual([v1, v2], [1_800_000_000, 1_800_000_001]);
  await first.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  now += 5_000;
  const rebuilt = SqliteUidStore.open(path, { now: () => now });
  const v3 = (await rebuilt.openMailbox('a', 'inbox')).uidValidity;
  assert.equal(v3, 1_800_000_005);
  assert.ok(v3 > v2);
  // A clock stepped backwards cannot make values repeat: the store-wide maximum wins.
  now -= 86_400_000;
  assert.equal((await rebuilt.openMailbox('a', 'drafts')).uidValidity, 1_800_000_006);
  await rebuilt.close();
});

test('SqliteUidStore: two connections on one file interleave assign calls without conflict', async () => {
  const path = freshPath();
  const s1 = SqliteUidStore.open(path);
  const s2 = SqliteUidStore.open(path);
  assert.equal((await s1.openMailbox('a', 'm')).uidValidity, (await s2.openMailbox('a', 'm')).uidValidity);
  const r1 = await s1.assign('a', 'm', ['x', 'y']);
  const r2 = await s2.assign('a', 'm', ['y', 'z']);
  const r3 = await s1.assign('a', 'm', ['z', 'w']);
  assert.deepEqual([...r1], [['x', 1], ['y', 2]]);
  assert.deepEqual([...r2], [['y', 2], ['z', 3]]);
  assert.deepEqual([...r3], [['z', 3], ['w', 4]]);
  await s2.expunge('a', 'm', [1]);
  assert.deepEqual((await s1.list('a', 'm')).map((e) => e.emailId), ['y', 'z', 'w']);
  await s1.close();
  await s2.close();
});

interface ChildResult { code: number | null; stdout: string; stderr: string }

function runChild(args: string[]): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./child.ts', import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Uint8Array) => { stdout += String(d); });
  child.stderr.on('data', (d: Uint8Array) => { stderr += String(d); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('SqliteUidStore: four processes assigning overlapping ids in one mailbox agree on every UID', async () => {
  const path = freshPath();
  await SqliteUidStore.open(path).close();
  const startAt = Date.now() + 1500; // children start together, after tsx has loaded in each
  const procs = 4;
  const callsEach = 150;
  const results = await Promise.all(
    Array.from({ length: procs }, (_, i) => runChild(['assign', path, 'acct', 'inbox', String(i), String(callsEach), String(startAt)])),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const views = results.map((r) => (JSON.parse(r.stdout) as { calls: Array<{ ids: string[]; uids: number[] }> }).calls);

  const uidOf = new Map<string, number>();
  const idOf = new Map<number, string>();
  for (const calls of views) {
    for (const { ids, uids } of calls) {
      ids.forEach((id, k) => {
        const uid = uids[k]!;
        assert.ok(Number.isInteger(uid) && uid >= 1, `${id} has no UID`);
        assert.equal(uidOf.get(id) ?? uid, uid, `${id} got two UIDs`);
        assert.equal(idOf.get(uid) ?? id, id, `UID ${uid} given to two ids`);
        uidOf.set(id, uid);
        idOf.set(uid, id);
      });
    }
  }
  // Each process's own ids are new when first passed: they ascend in input order within a call, and each one is
  // above every UID that process had been shown before (new UIDs are above all UIDs issued so far).
  views.forEach((calls, p) => {
    let maxSeen = 0;
    for (const { ids, uids } of calls) {
      let prevOwn = 0;
      ids.forEach((id, k) => {
        if (!id.startsWith(`p${p}-`)) return;
        assert.ok(uids[k]! > prevOwn, `process ${p}: own ids ascend in the order given`);
        assert.ok(uids[k]! > maxSeen, `process ${p}: a new UID is above every UID seen earlier`);
        prevOwn = uids[k]!;
      });
      maxSeen = Math.max(maxSeen, ...uids);
    }
  });

  const store = SqliteUidStore.open(path);
  const listed = await store.list('acct', 'inbox');
  assert.deepEqual(listed, [...uidOf].map(([emailId, uid]) => ({ uid, emailId })).sort((a, b) => a.uid - b.uid), 'store holds exactly what was handed out');
  const { uidNext } = await store.openMailbox('acct', 'inbox');
  assert.equal(uidNext, listed.length + 1, 'UIDNEXT is above all, and no UID was burnt or reused');
  await store.close();
});

test('SqliteUidStore: processes doing the first openMailbox of one mailbox at once get the same UIDVALIDITY', async () => {
  const path = freshPath();
  await SqliteUidStore.open(path).close();
  const startAt = Date.now() + 1500;
  const results = await Promise.all(Array.from({ length: 4 }, () => runChild(['open', path, 'acct', 'new-box', String(startAt)])));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const values = results.map((r) => (JSON.parse(r.stdout) as { uidValidity: number }).uidValidity);
  assert.equal(new Set(values).size, 1, `got ${values.join(', ')}`);
  const store = SqliteUidStore.open(path);
  assert.equal((await store.openMailbox('acct', 'new-box')).uidValidity, values[0]);
  await store.close();
});

test('SqliteUidStore: 100,000 messages: assign in one transaction, list in one query', async (t) => {
  const store = SqliteUidStore.open(freshPath());
  const ids = Array.from({ length: 100_000 }, (_, i) => `M${(i * 2654435761) % 4294967291}-${i}`);
  let t0 = performance.now();
  const got = await store.assign('acct', 'big', ids);
  const assignMs = performance.now() - t0;
  assert.equal(got.size, 100_000);
  assert.equal(got.get(ids[0]!), 1);
  assert.equal(got.get(ids[99_999]!), 100_000);

  t0 = performance.now();
  const listed = await store.list('acct', 'big');
  const listMs = performance.now() - t0;
  assert.equal(listed.length, 100_000);
  assert.deepEqual(listed[4_242], { uid: 4_243, emailId: ids[4_242] });

  t0 = performance.now();
  const again = await store.assign('acct', 'big', [...ids, 'one-more']);
  const reassignMs = performance.now() - t0;
  assert.equal(again.get('one-more'), 100_001);
  t.diagnostic(`assign 100k new: ${assignMs.toFixed(0)} ms; list 100k: ${listMs.toFixed(0)} ms; assign 100k mapped + 1 new: ${reassignMs.toFixed(0)} ms`);
  // Generous bounds so a slow CI machine passes, while a per-row-transaction implementation would not.
  assert.ok(assignMs < 15_000, `assign took ${assignMs} ms`);
  assert.ok(listMs < 5_000, `list took ${listMs} ms`);
  await store.close();
});
