/**
 * SqliteUidStore `expunge` across processes sharing one database file (store.ts): each call's answer is decided in
 * the transaction that removes, so racing processes expunging overlapping sets are answered disjoint sets whose
 * union is what was live, and each call that removed something took exactly one version and one mod-sequence.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'uidmap-expunge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface ChildResult { code: number | null; stdout: string; stderr: string }

/** Starts the children; each runs once `go` is called, which the parent does when all of them are ready. */
function runChildren(argsOf: string[][]): Promise<ChildResult[]> {
  let ready = 0;
  const children = argsOf.map((args) => spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./expunge-child.ts', import.meta.url)), ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  return Promise.all(children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Uint8Array) => {
      const was = stdout;
      stdout += String(d);
      if (!was.includes('ready\n') && stdout.includes('ready\n') && ++ready === children.length) for (const c of children) c.stdin.end('go\n');
    });
    child.stderr.on('data', (d: Uint8Array) => { stderr += String(d); });
    return new Promise<ChildResult>((resolve) => child.on('close', (code) => resolve({ code, stdout: stdout.replace('ready\n', ''), stderr })));
  }));
}

test('SqliteUidStore: three processes expunging overlapping UIDs are answered disjoint sets whose union is what was live', async () => {
  const path = join(dir, 'store.db');
  const maxUid = 400;
  const setup = SqliteUidStore.open(path);
  await setup.assign('acct', 'inbox', Array.from({ length: maxUid }, (_, i) => `e${i}`));
  assert.deepEqual(await setup.expunge('acct', 'inbox', [10, 20]), [10, 20]); // gone before the race
  const before = await setup.openMailbox('acct', 'inbox');
  await setup.close();

  const results = await runChildren([0, 1, 2].map((i) => [path, 'acct', 'inbox', String(i), '200', String(maxUid)]));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const calls = results.flatMap((r) => (JSON.parse(r.stdout) as { calls: Array<{ asked: number[]; removed: number[] }> }).calls);

  const removedBy = new Map<number, number>();
  calls.forEach(({ asked, removed }, k) => {
    assert.deepEqual(removed, [...new Set(removed)].sort((a, b) => a - b), 'each answer ascending, without repeats');
    for (const uid of removed) {
      assert.ok(asked.includes(uid), `UID ${uid} answered but not asked`);
      assert.equal(removedBy.get(uid), undefined, `UID ${uid} answered as removed by two calls`);
      removedBy.set(uid, k);
    }
  });
  const live = Array.from({ length: maxUid }, (_, i) => i + 1).filter((u) => u !== 10 && u !== 20);
  assert.deepEqual([...removedBy.keys()].sort((a, b) => a - b), live, 'the union is exactly what was live');

  const store = SqliteUidStore.open(path);
  const now = await store.openMailbox('acct', 'inbox');
  const nonEmpty = calls.filter((c) => c.removed.length > 0).length;
  assert.equal(now.version, before.version + nonEmpty, 'one version per call that removed something, none for the others');
  assert.equal(now.highestModseq, before.highestModseq + nonEmpty, 'one mod-sequence per call that removed something');
  assert.deepEqual(await store.list('acct', 'inbox'), []);
  assert.deepEqual(await store.vanished('acct', 'inbox', before.highestModseq), live);
  await store.close();
});
