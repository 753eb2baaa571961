/** MemoryUidStore against the UidStore contract, plus its clock seeding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryUidStore } from '../../src/uidmap/memory.ts';
import { runUidStoreContract } from './contract.ts';

runUidStoreContract('MemoryUidStore', async () => ({ store: new MemoryUidStore() }));

test('MemoryUidStore: UIDVALIDITY is the clock in seconds, bumped past the largest issued', async () => {
  let now = 1_700_000_000_500;
  const store = new MemoryUidStore({ now: () => now });
  assert.equal((await store.openMailbox('a', 'm1')).uidValidity, 1_700_000_000);
  assert.equal((await store.openMailbox('a', 'm2')).uidValidity, 1_700_000_001, 'same second: one above the largest');
  now -= 3_600_000; // clock stepped back an hour
  assert.equal((await store.openMailbox('a', 'm3')).uidValidity, 1_700_000_002);
  now += 7_200_000;
  assert.equal((await store.openMailbox('a', 'm4')).uidValidity, 1_700_003_600);
});

test('MemoryUidStore: a closed store refuses calls with NO [UNAVAILABLE]', async () => {
  const store = new MemoryUidStore();
  await store.close();
  await assert.rejects(store.assign('a', 'm', ['x']), (err: { kind?: string; code?: { name: string } }) =>
    err.kind === 'NO' && err.code?.name === 'UNAVAILABLE');
});
