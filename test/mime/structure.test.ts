/**
 * parseStructure: MIME fields (RFC 2045, RFC 2183, RFC 2231, RFC 3282, RFC 2557) and the part tree (RFC 2046).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStructure, type MimePart } from '../../src/backend/mime/structure.ts';

const enc = new TextEncoder();
const crlf = (s: string): string => s.replace(/\n/g, '\r\n');
const parse = (s: string): MimePart => parseStructure(enc.encode(s));

test('no Content-Type: text/plain; charset=us-ascii, 7bit (RFC 2045 §5.2, §6.1)', () => {
  const p = parse(crlf('Subject: x\n\nhi\n'));
  assert.equal(p.contentType.type, 'text');
  assert.equal(p.contentType.subtype, 'plain');
  assert.equal(p.contentType.params.get('charset'), 'us-ascii');
  assert.equal(p.contentType.explicit, false);
  assert.equal(p.encoding, '7bit');
  assert.deepEqual(p.children, []);
  assert.equal(p.message, null);
});

test('invalid Content-Type falls back to the default (RFC 2045 §5.2)', () => {
  const p = parse(crlf('Content-Type: text\n\nhi'));
  assert.equal(`${p.contentType.type}/${p.contentType.subtype}`, 'text/plain');
});

test('Content-Type is case-insensitive, with quoted params, comments and folding', () => {
  const p = parse(crlf('CONTENT-TYPE: Text/HTML (a comment);\n\tCharSet="ISO-8859-1"; format = flowed\nContent-Transfer-Encoding: Quoted-Printable\n\nx'));
  assert.equal(p.contentType.type, 'text');
  assert.equal(p.contentType.subtype, 'html');
  assert.equal(p.contentType.params.get('charset'), 'ISO-8859-1');
  assert.equal(p.contentType.params.get('format'), 'flowed');
  assert.equal(p.encoding, 'quoted-printable');
});

test('RFC 2231 §3 continuations and §4.1 charset/language with mixed segments', () => {
  const p = parse(crlf(`Content-Type: message/external-body; access-type=URL;
 URL*0="ftp://";
 URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"
Content-Disposition: attachment;
 title*0*=us-ascii'en'This%20is%20even%20more%20;
 title*1*=%2A%2A%2Afun%2A%2A%2A%20;
 title*2="isn't it!"

`));
  assert.equal(p.contentType.params.get('url'), 'ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar');
  assert.equal(p.disposition?.type, 'attachment');
  assert.equal(p.disposition?.params.get('title'), "This is even more ***fun*** isn't it!");
});

test('RFC 2231 extended value in UTF-8 overrides the plain fallback parameter', () => {
  const p = parse(crlf(`Content-Type: application/pdf; name="rates.pdf"; name*=utf-8''%E2%82%AC%20rates.pdf
Content-Disposition: attachment; filename*=UTF-8''%C3%BCber.pdf

x`));
  assert.equal(p.contentType.params.get('name'), '\u20ac rates.pdf');
  assert.equal(p.disposition?.params.get('filename'), '\u00fcber.pdf');
  assert.deepEqual(p.disposition?.rawParams, [['filename*', "UTF-8''%C3%BCber.pdf"]]);
});

test('Content-ID, Content-Description, Content-Language, Content-Location', () => {
  const p = parse(crlf(`Content-Type: image/png
Content-ID: <part1.abc@example.com>
Content-Description: A small
 picture
Content-Language: en, de (German)
Content-Location: http://example.com/
 img.png

x`));
  assert.equal(p.id, '<part1.abc@example.com>');
  assert.equal(p.description, 'A small picture');
  assert.deepEqual(p.language, ['en', 'de']);
  assert.equal(p.location, 'http://example.com/img.png');
});

test('body line counts', () => {
  assert.equal(parse(crlf('A: b\n\none\ntwo\n')).lines, 2);
  assert.equal(parse(crlf('A: b\n\none\ntwo')).lines, 2);
  assert.equal(parse(crlf('A: b\n\n')).lines, 0);
  assert.equal(parse('A: b\n\n\n\n').lines, 2);
});

test('offsets: header block includes the blank line, body follows it', () => {
  const text = crlf('A: 1\nB: 2\n\nbody\n');
  const p = parse(text);
  assert.equal(p.headerStart, 0);
  assert.equal(p.headerEnd, 'A: 1\r\nB: 2\r\n\r\n'.length);
  assert.equal(p.bodyStart, p.headerEnd);
  assert.equal(p.bodyEnd, text.length);
  assert.equal(p.hasBlankLine, true);
  assert.equal(p.lineEnd, '\r\n');
  assert.deepEqual(p.fields.map((f) => f.name), ['A', 'B']);
});

test('multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5) and are descended into', () => {
  const p = parse(crlf(`Content-Type: multipart/digest; boundary=d

--d

From: one@example.com
Subject: one

first
--d
Content-Type: text/plain

not a message
--d--
`));
  assert.equal(p.children.length, 2);
  const [a, b] = p.children;
  assert.equal(`${a!.contentType.type}/${a!.contentType.subtype}`, 'message/rfc822');
  assert.equal(a!.message?.fields.map((f) => f.name).join(','), 'From,Subject');
  assert.equal(`${b!.contentType.type}/${b!.contentType.subtype}`, 'text/plain');
});

test('message/global is encapsulated like message/rfc822; base64 message/rfc822 is left opaque', () => {
  const g = parse(crlf('Content-Type: message/global\n\nSubject: inner\n\nx'));
  assert.equal(g.message?.fields[0]?.name, 'Subject');
  const b = parse(crlf('Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQp4'));
  assert.equal(b.message, null);
});

test('a multipart without boundary parameter has no children', () => {
  assert.deepEqual(parse(crlf('Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n')).children, []);
});

test('nesting depth is bounded: a deeply nested message parses without recursion blow-up', () => {
  let msg = 'Subject: leaf\r\n\r\nleaf';
  for (let i = 0; i < 5000; i++) msg = `Content-Type: message/rfc822\r\n\r\n${msg}`;
  let p: MimePart | null = parse(msg);
  let depth = 0;
  while (p?.message) { p = p.message; depth++; }
  assert.ok(depth <= 64, `descended ${depth} levels`);
});
