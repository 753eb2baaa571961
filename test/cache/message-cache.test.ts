/** The immutable-data cache (DESIGN.md rule 9): exact round trip, per-account keys, byte bound, persistence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMessageCache, type CachedMessage, type MessageCache } from '../../src/cache/message-cache.ts';
import { SqliteMessageCache } from '../../src/cache/sqlite.ts';

function msg(id: string, headerBytes = 100): CachedMessage {
  const header = new Uint8Array(headerBytes).fill(0x41);
  header.set([0xe9, 0x0a, 0x0d, 0x0a], 0); // 8-bit and bare LF octets must survive
  return { emailId: id, blobId: `B${id}`, threadId: `T${id}`, size: 1234, receivedAt: '2024-01-02T03:04:05Z', header };
}

const dir = mkdtempSync(join(tmpdir(), 'cache-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const makers: Array<[string, (max?: number) => MessageCache]> = [
  ['memory', (max) => new MemoryMessageCache(max)],
  ['sqlite', (max) => SqliteMessageCache.open(join(dir, `c${n++}.sqlite`), max)],
];

for (const [name, make] of makers) {
  test(`${name}: entries come back byte for byte, per account, missing ids absent`, async () => {
    const c = make();
    await c.put('acct1', [msg('a'), msg('b')]);
    const got = await c.get('acct1', ['a', 'b', 'zz']);
    assert.equal(got.size, 2);
    assert.deepEqual(got.get('a'), msg('a'));
    assert.equal((await c.get('acct2', ['a'])).size, 0, 'accounts do not see each other');
    await c.close();
  });

  test(`${name}: the byte bound evicts least recently used entries first`, async () => {
    const c = make(5_000);
    await c.put('a', [msg('old', 1000), msg('keep', 1000)]);
    await c.get('a', ['keep']);
    for (let i = 0; i < 6; i++) await c.put('a', [msg(`new${i}`, 1000)]);
    assert.ok((await c.size()) <= 5_000);
    assert.equal((await c.get('a', ['old'])).size, 0, 'the least recently used entry was dropped');
    assert.equal((await c.get('a', ['new5'])).size, 1, 'the newest stays');
    await c.close();
  });
}

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
