/**
 * FETCH cuts a downloaded message's header block at `headerEnd` (src/session/commands/fetch.ts) instead of parsing
 * its MIME structure: the cut must be where the header parser ends the top-level header (RFC 5322 §2.1: up to and
 * including the first empty line; CRLF or bare LF; a lone CR ends no line), or the cached block would differ from
 * what BODY[HEADER] of the same message answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerEnd } from '../../src/session/commands/fetch.ts';
import { parseHeaderBlock } from '../../src/backend/mime/header.ts';
import { ALL } from '../fixtures/messages.ts';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

test('headerEnd: RFC 5322 §2.1 cases, against the header parser', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['\r\nbody', 2], // empty header block
    ['\nbody', 1],
    ['A: 1\r\n\r\nbody\r\n\r\n', 8],
    ['A: 1\n\nbody', 6], // bare LF
    ['A: 1\r\nB: 2', 10], // no empty line: the whole message is header
    ['A: 1\r\n\rX: 2\r\n\r\nbody', 15], // a lone CR ends no line
    ['A: 1\r\n \r\n\r\nb', 11], // a white-space line is a continuation, not the separator
    ['not a field\r\n\r\nbody', 15], // a malformed line does not end the header (as Dovecot)
    ['A: 1\r\n\r', 7],
  ];
  for (const [text, end] of cases) {
    const raw = bytes(text);
    assert.equal(headerEnd(raw), end, JSON.stringify(text));
    assert.equal(headerEnd(raw), parseHeaderBlock(raw, 0, raw.length).end, JSON.stringify(text));
  }
  for (const raw of ALL) assert.equal(headerEnd(raw), parseHeaderBlock(raw, 0, raw.length).end);
});

test('headerEnd equals the header parser on random octet strings of header-ish characters', () => {
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const alphabet = ['A', 'b', ':', ' ', '\t', '\r', '\n', '\r\n', '\u00e9', '\u0000'];
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    for (let n = Math.floor(next() * 30); n > 0; n--) text += alphabet[Math.floor(next() * alphabet.length)];
    const raw = bytes(text);
    assert.equal(headerEnd(raw), parseHeaderBlock(raw, 0, raw.length).end, JSON.stringify(text));
  }
});
