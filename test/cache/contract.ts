/**
 * The MessageCache contract (src/cache/message-cache.ts, DESIGN.md rule 9): every implementation must pass it.
 * `make(maxBytes?)` gives a fresh, empty cache (fresh accounts at least) with that byte bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CachedMessage, MessageCache } from '../../src/cache/message-cache.ts';

export function cachedMessage(id: string, headerBytes = 100): CachedMessage {
  const header = new Uint8Array(headerBytes).fill(0x41);
  header.set([0xe9, 0x0a, 0x0d, 0x0a], 0); // 8-bit and bare LF octets must survive
  return { emailId: id, blobId: `B${id}`, threadId: `T${id}`, size: 1234, receivedAt: '2024-01-02T03:04:05Z', header };
}

export function runMessageCacheContract(name: string, make: (maxBytes?: number) => MessageCache | Promise<MessageCache>): void {
  test(`${name}: entries come back byte for byte, per account, missing ids absent`, async () => {
    const c = await make();
    await c.put('acct1', [cachedMessage('a'), cachedMessage('b')]);
    const got = await c.get('acct1', ['a', 'b', 'zz']);
    assert.equal(got.size, 2);
    assert.deepEqual(got.get('a'), cachedMessage('a'));
    assert.equal((await c.get('acct2', ['a'])).size, 0, 'accounts do not see each other');
    await c.close();
  });

  test(`${name}: the byte bound evicts least recently used entries first`, async () => {
    const c = await make(5_000);
    await c.put('a', [cachedMessage('old', 1000), cachedMessage('keep', 1000)]);
    await c.get('a', ['keep']);
    for (let i = 0; i < 6; i++) await c.put('a', [cachedMessage(`new${i}`, 1000)]);
    assert.ok((await c.size()) <= 5_000);
    assert.equal((await c.get('a', ['old'])).size, 0, 'the least recently used entry was dropped');
    assert.equal((await c.get('a', ['new5'])).size, 1, 'the newest stays');
    await c.close();
  });
}
