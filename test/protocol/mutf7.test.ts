// Modified UTF-7 (RFC 3501 §5.1.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMutf7, encodeMutf7 } from '../../src/protocol/mutf7.ts';

test('RFC 3501 §5.1.3 example and common names', () => {
  // "~peter/mail/日本語/台北" from the RFC.
  assert.equal(encodeMutf7('~peter/mail/\u65e5\u672c\u8a9e/\u53f0\u5317'), '~peter/mail/&ZeVnLIqe-/&U,BTFw-');
  assert.equal(decodeMutf7('~peter/mail/&ZeVnLIqe-/&U,BTFw-'), '~peter/mail/\u65e5\u672c\u8a9e/\u53f0\u5317');
  assert.equal(encodeMutf7('Entwürfe'), 'Entw&APw-rfe');
  assert.equal(decodeMutf7('Entw&APw-rfe'), 'Entwürfe');
  assert.equal(encodeMutf7('Tom & Jerry'), 'Tom &- Jerry');
  assert.equal(decodeMutf7('Tom &- Jerry'), 'Tom & Jerry');
  assert.equal(encodeMutf7('INBOX'), 'INBOX');
  assert.equal(encodeMutf7('\u{1F600}'), '&2D3eAA-', 'astral characters as a surrogate pair');
  assert.equal(decodeMutf7('&2D3eAA-'), '\u{1F600}');
});

test('invalid or non-canonical modified UTF-7 is rejected', () => {
  assert.equal(decodeMutf7('&ZeVnLIqe'), null, 'unclosed &');
  assert.equal(decodeMutf7('a&b'), null, 'unclosed &');
  assert.equal(decodeMutf7('&AGE-'), null, 'printable ASCII "a" encoded');
  assert.equal(decodeMutf7('&ZeVnLIqe-&U,BTFw-'), null, 'two adjacent runs');
  assert.equal(decodeMutf7('&APx-'.replace('x', 'y')), null, 'non-zero padding bits');
  assert.equal(decodeMutf7('&AP-'), null, 'incomplete UTF-16 unit');
  assert.equal(decodeMutf7('&2D0-'), null, 'lone high surrogate');
  assert.equal(decodeMutf7('&ZeV/LIqe-'), null, '"/" is not in the modified base64 alphabet');
  assert.equal(decodeMutf7('Entwürfe'), null, '8-bit characters must be encoded');
});

test('round trip on arbitrary Unicode strings (well-formed UTF-16)', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
    const wire = encodeMutf7(s);
    assert.match(wire, /^[\x20-\x7e]*$/);
    assert.equal(decodeMutf7(wire), s);
  }), { numRuns: 500 });
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    assert.equal(decodeMutf7(encodeMutf7(s)), s);
  }), { numRuns: 500 });
});
