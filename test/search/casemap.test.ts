/**
 * casemap (src/session/search/casemap.ts), RFC 5051 §2 as approximated there: each character to its upper case when
 * that is one character, then NFKD. The fast path (ASCII runs upper-cased at once) must give exactly what the
 * character-by-character definition gives, for any string.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { casemap } from '../../src/session/search/casemap.ts';

/** The definition, character by character. */
function reference(s: string): string {
  let out = '';
  for (const ch of s) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out.normalize('NFKD');
}

test('known answers: ASCII, accents decomposed (NFKD), ß and ﬁ kept (no one-character upper case; NFKD then splits ﬁ)', () => {
  assert.equal(casemap('Hello, World 42'), 'HELLO, WORLD 42');
  assert.equal(casemap('grüße'), 'GRU\u0308ßE');
  assert.equal(casemap('caf\u00e9 au lait'), 'CAFE\u0301 AU LAIT');
  assert.equal(casemap('\ufb01le'), 'fiLE', 'U+FB01 upper-cases to two characters, so it is kept; NFKD makes it "fi"');
});

test('property: equal to the character-by-character definition (mixed ASCII, BMP, astral, combining marks)', () => {
  const chars = fc.oneof(fc.constantFrom('a', 'Z', ' ', '\n', 'ß', 'é', 'ǆ', 'ﬁ', 'İ', 'ı', '\u0301', '𐐨', 'Ω', 'ŉ'), fc.string({ unit: 'grapheme', maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 3 }));
  fc.assert(fc.property(fc.array(chars, { maxLength: 40 }).map((a) => a.join('')), (s) => casemap(s) === reference(s)), { numRuns: 2000 });
});
