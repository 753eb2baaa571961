/**
 * Malformed MIME header fields, read as Dovecot 2.3.19 reads them (test/differential found each difference on an
 * enmime corpus message; the expected values are Dovecot's answers there, docs/differential.md), and SEARCH BODY
 * over HTML, which Dovecot (without FTS) matches against the decoded HTML source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyStructure } from '../../src/backend/mime/bodystructure.ts';
import { parseContentType } from '../../src/backend/mime/params.ts';
import { parseStructure } from '../../src/backend/mime/structure.ts';
import type { Value } from '../../src/protocol/types.ts';
import { searchText } from '../../src/session/search/message-text.ts';
import { casemap } from '../../src/session/search/casemap.ts';

const enc = new TextEncoder();
const structure = (text: string): Value[] => {
  const raw = enc.encode(text);
  return bodyStructure(raw, parseStructure(raw), true) as Value[];
};

test('an unterminated quoted parameter value is dropped, not run to the end of the line (missing-closing-param-quote.raw)', () => {
  assert.deepEqual([...parseContentType('text/html; charset="UTF-8Return-Path: bounce@example.com')!.params], []);
  assert.deepEqual([...parseContentType('text/html; name=a; charset="utf-8')!.params], [['name', 'a']]);
  assert.deepEqual([...parseContentType('text/html; charset="utf-8"')!.params], [['charset', 'utf-8']], 'a closed one stays');
  // Dovecot's BODYSTRUCTURE: the RFC 2045 §5.2 default charset instead of the broken one.
  const v = structure('Content-type: text/HTML; charset="UTF-8Return-Path: bounce@example.com\nMIME-Version: 1.0\n\n');
  assert.deepEqual(v.slice(0, 3), ['text', 'HTML', ['charset', 'us-ascii']]);
});

test('of two Content-Disposition fields the last one counts (inlinemultipart.raw)', () => {
  const v = structure('Content-Type: text/plain; name="t.txt"\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: 7bit\r\n'
    + 'Content-Disposition: attachment; filename="t.txt"\r\n\r\nhello\r\n');
  assert.deepEqual(v[9], ['attachment', ['filename', 't.txt']]); // body-fld-dsp after md5
});

test('SEARCH BODY text of an HTML part: the decoded source (links, attributes) and its text (entities decoded)', () => {
  const t = searchText(enc.encode('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    + '<a href=3D"http://clickthru.example.com/Click">Caf&#233; <b>ne</b>ws</a>\r\n'));
  assert.ok(t.body.includes(casemap('clickthru')), 'a string inside a link is in the body (Dovecot matches it)');
  assert.ok(t.body.includes(casemap('café news')), 'the text: entity decoded, word split by a tag joined');
  assert.ok(!t.header.includes(casemap('clickthru')));
});
