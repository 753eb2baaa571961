/**
 * `topHeaderValues` (src/session/search/message-text.ts), what a header search reads from a cached header block:
 * the raw values (after the colon, folding kept, RFC 5322 §2.2) of the named top-level fields only, every
 * occurrence in message order, names matched in any case, white space before the colon allowed (RFC 5322 §4.5.3),
 * 8-bit octets decoded (UTF-8, else windows-1252) and an empty list for a name the block lacks; the same values the
 * full parse (`topHeaders`) gives for those names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topHeaders, topHeaderValues } from '../../src/session/search/message-text.ts';

const latin1 = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

test('the named fields only, each occurrence, folding kept, any case, 8-bit decoded, absent = empty', () => {
  const block = latin1([
    'Received: from a\r\n', 'SUBJECT: first part\r\n', '\tfolded on\r\n', 'X-Tag : one\r\n', 'no colon here\r\n',
    'x-tag: two\r\n', 'Subject: caf\xe9\r\n', 'To: b@example.org\r\n', '\r\n', 'Subject: in the body\r\n',
  ].join(''));
  const got = topHeaderValues(block, new Set(['subject', 'x-tag', 'cc']));
  assert.deepEqual([...got], [
    ['subject', [' first part\r\n\tfolded on\r\n', ' café\r\n']],
    ['x-tag', [' one\r\n', ' two\r\n']],
    ['cc', []],
  ]);
  for (const [name, values] of got) {
    assert.deepEqual(topHeaders(block).filter((h) => h.name.toLowerCase() === name).map((h) => h.raw), values, name);
  }
});
