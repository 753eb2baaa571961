/** The immutable-data cache (DESIGN.md rule 9): the shared contract (contract.ts) for memory and SQLite, and persistence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMessageCache, type MessageCache } from '../../src/cache/message-cache.ts';
import { SqliteMessageCache } from '../../src/cache/sqlite.ts';
import { cachedMessage, runMessageCacheContract } from './contract.ts';

const msg = cachedMessage;

const dir = mkdtempSync(join(tmpdir(), 'cache-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const makers: Array<[string, (max?: number) => MessageCache]> = [
  ['memory', (max) => new MemoryMessageCache(max)],
  ['sqlite', (max) => SqliteMessageCache.open(join(dir, `c${n++}.sqlite`), max)],
];

for (const [name, make] of makers) runMessageCacheContract(name, make);

test('sqlite: the cache survives a restart', async () => {
  const path = join(dir, 'persist.sqlite');
  const a = SqliteMessageCache.open(path);
  await a.put('acct', [msg('x', 300)]);
  await a.close();
  const b = SqliteMessageCache.open(path);
  assert.deepEqual((await b.get('acct', ['x'])).get('x'), msg('x', 300));
  assert.ok((await b.size()) > 300);
  await b.close();
});
