/**
 * UidStore.setOrigins / getOrigins (RFC 8474 §5.1, src/uidmap/store.ts): the EMAILID/THREADID a re-imported copy
 * keeps from its source must be durable (a client caches EMAILIDs across sessions: §1) and never change once shown
 * (§5.1 "EMAILID is immutable"), so entries are write-once, per account, and survive a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryUidStore } from '../../src/uidmap/memory.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { UidStore } from '../../src/uidmap/store.ts';

async function contract(store: UidStore): Promise<void> {
  await store.setOrigins!('acct', new Map([['copy1', { emailId: 'src', threadId: 'thr' }]]));
  await store.setOrigins!('acct', new Map([['copy1', { emailId: 'other', threadId: 'other-t' }], ['copy2', { emailId: 'src', threadId: 'thr' }]]));
  assert.deepEqual(await store.getOrigins!('acct', ['copy1', 'copy2', 'plain']), new Map([
    ['copy1', { emailId: 'src', threadId: 'thr' }], // write-once: the first origin stays
    ['copy2', { emailId: 'src', threadId: 'thr' }],
  ]));
  assert.deepEqual(await store.getOrigins!('other-account', ['copy1']), new Map(), 'accounts do not share origins');
}

test('memory store: origins are write-once and per account', async () => {
  await contract(new MemoryUidStore());
});

test('SQLite store: origins are write-once, per account, and survive reopening the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'origins-'));
  try {
    const path = join(dir, 'uidmap.sqlite');
    const a = SqliteUidStore.open(path);
    await contract(a);
    await a.close();
    const b = SqliteUidStore.open(path);
    assert.deepEqual(await b.getOrigins!('acct', ['copy1']), new Map([['copy1', { emailId: 'src', threadId: 'thr' }]]));
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
