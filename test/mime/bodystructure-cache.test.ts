/** The blob-derived cache (src/session/blob-cache.ts, DESIGN.md rule 9): keyed per account, LRU, bounded by bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobCache } from '../../src/session/blob-cache.ts';

test('entries are per account: the same blobId in another account is a miss', () => {
  const c = new BlobCache(10_000);
  c.put('t/a1', 'G1', { preview: 'one' });
  assert.equal(c.get('t/a1', 'G1')?.preview, 'one');
  assert.equal(c.get('t/a2', 'G1'), undefined);
});

test('put merges what is derived later into the same entry', () => {
  const c = new BlobCache(10_000);
  c.put('a', 'G1', { preview: 'p' });
  c.put('a', 'G1', { body: ['text', 'plain'] });
  assert.deepEqual(c.get('a', 'G1'), { preview: 'p', body: ['text', 'plain'] });
  assert.equal(c.size, 1);
});

test('over the byte budget the least recently used entries go first; the total stays under the budget', () => {
  const c = new BlobCache(1_000);
  const big = 'x'.repeat(140); // 320 bytes per entry with its key: three fit, four do not
  c.put('a', 'G1', { preview: big });
  c.put('a', 'G2', { preview: big });
  c.put('a', 'G3', { preview: big });
  c.get('a', 'G1'); // G1 is now the most recently used
  c.put('a', 'G4', { preview: big });
  assert.ok(c.bytes <= 1_000, `${c.bytes}`);
  assert.equal(c.get('a', 'G2'), undefined, 'least recently used evicted');
  assert.ok(c.get('a', 'G1'));
  assert.ok(c.get('a', 'G4'));
});

test('an entry larger than the whole budget is not kept', () => {
  const c = new BlobCache(100);
  c.put('a', 'G1', { preview: 'y'.repeat(1000) });
  assert.equal(c.size, 0);
  assert.equal(c.bytes, 0);
});
