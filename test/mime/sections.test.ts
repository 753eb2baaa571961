/**
 * Known answers for IMAP section extraction (RFC 9051 §6.4.5) on hand-written messages. Expected octets are
 * written out from the RFC text, never captured from the implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStructure } from '../../src/backend/mime/structure.ts';
import { extractSection, applyPartial, headerFieldsFromRaw, type SectionSpec } from '../../src/backend/mime/sections.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Writes test messages readably: each `\n` becomes CRLF (RFC 5322 line ends). */
const crlf = (s: string): string => s.replace(/\n/g, '\r\n');
const bytes = (s: string): Uint8Array => enc.encode(s);

function section(raw: Uint8Array, spec: string): string | null {
  const out = extractSection(raw, parseStructure(raw), parseSpec(spec));
  return out === null ? null : dec.decode(out);
}

/** Test-local reader of a section string like `4.2.HEADER.FIELDS (FROM DATE)` (RFC 9051 §9 section-spec). */
function parseSpec(spec: string): SectionSpec {
  const m = /^([\d.]*?)\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME)?(?: \(([^)]*)\))?$/.exec(spec);
  assert.ok(m, `bad spec ${spec}`);
  const part = m[1] ? m[1].split('.').filter(Boolean).map(Number) : [];
  const out: SectionSpec = { part };
  if (m[2]) out.kind = m[2] as SectionSpec['kind'];
  if (m[3] !== undefined) out.fields = m[3].split(' ').filter(Boolean);
  return out;
}

// The complex message of RFC 9051 §6.4.5, with every part the RFC lists.
// Boundary `m4` is a prefix of the nested `m42`: a `--m42` line must not be taken for a `--m4` delimiter.
const HDR = crlf(`From: a@example.com
To: b@example.com
Subject: complex
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

`);
const P3_MSG = crlf(`From: c@example.com
Subject: inner three
Content-Type: multipart/mixed; boundary="m3"

--m3
Content-Type: text/plain

3.1 text
--m3
Content-Type: application/octet-stream

3.2 data
--m3--`);
const P42_MSG = crlf(`From: d@example.com
Subject: inner 4.2
Content-Type: multipart/mixed; boundary=m42

--m42
Content-Type: text/plain

4.2.1 text
--m42
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain

4.2.2.1 plain
--alt
Content-Type: text/richtext

4.2.2.2 <bold>rich</bold>
--alt--
--m42--`);
const P4_BODY = crlf(`--m4
Content-Type: image/gif
Content-Transfer-Encoding: base64

R0lGODlhAQABAAAAACw=
--m4
Content-Type: message/rfc822

`) + P42_MSG + crlf(`
--m4--`);
const BODY = crlf(`This is the preamble.
--outer
Content-Type: text/plain

part one
--outer
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAECAw==
--outer
Content-Type: message/rfc822

`) + P3_MSG + crlf(`
--outer
Content-Type: multipart/mixed; boundary="m4"

`) + P4_BODY + crlf(`
--outer--
This is the epilogue.
`);
const COMPLEX = bytes(HDR + BODY);

test('RFC 9051 §6.4.5 example: every listed part specifier', () => {
  const expected: Array<[string, string]> = [
    ['HEADER', HDR],
    ['TEXT', BODY],
    ['1', 'part one'],
    ['2', 'AAECAw=='],
    ['3', P3_MSG],
    ['3.HEADER', crlf('From: c@example.com\nSubject: inner three\nContent-Type: multipart/mixed; boundary="m3"\n\n')],
    ['3.TEXT', crlf('--m3\nContent-Type: text/plain\n\n3.1 text\n--m3\nContent-Type: application/octet-stream\n\n3.2 data\n--m3--')],
    ['3.1', '3.1 text'],
    ['3.2', '3.2 data'],
    ['4', P4_BODY],
    ['4.1', 'R0lGODlhAQABAAAAACw='],
    ['4.1.MIME', crlf('Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\n')],
    ['4.2', P42_MSG],
    ['4.2.HEADER', crlf('From: d@example.com\nSubject: inner 4.2\nContent-Type: multipart/mixed; boundary=m42\n\n')],
    ['4.2.TEXT', P42_MSG.slice(P42_MSG.indexOf('\r\n\r\n') + 4)],
    ['4.2.1', '4.2.1 text'],
    ['4.2.2', crlf('--alt\nContent-Type: text/plain\n\n4.2.2.1 plain\n--alt\nContent-Type: text/richtext\n\n4.2.2.2 <bold>rich</bold>\n--alt--')],
    ['4.2.2.1', '4.2.2.1 plain'],
    ['4.2.2.2', '4.2.2.2 <bold>rich</bold>'],
  ];
  for (const [spec, want] of expected) assert.equal(section(COMPLEX, spec), want, spec);
});

test('RFC 9051 §6.4.5 example: BODY[] is the whole message byte for byte', () => {
  const out = extractSection(COMPLEX, parseStructure(COMPLEX), { part: [] });
  assert.deepEqual(out, COMPLEX);
});

test('MIME headers of body parts, and of encapsulated messages', () => {
  assert.equal(section(COMPLEX, '1.MIME'), crlf('Content-Type: text/plain\n\n'));
  assert.equal(section(COMPLEX, '3.MIME'), crlf('Content-Type: message/rfc822\n\n'));
  assert.equal(section(COMPLEX, '4.MIME'), crlf('Content-Type: multipart/mixed; boundary="m4"\n\n'));
  assert.equal(section(COMPLEX, '4.2.2.2.MIME'), crlf('Content-Type: text/richtext\n\n'));
});

test('sections that name nothing are null', () => {
  for (const spec of ['0', '5', '1.1', '2.1', '3.3', '4.3', '4.2.3', '4.2.2.3', '4.1.1', '4.2.1.1.1']) {
    assert.equal(section(COMPLEX, spec), null, spec);
  }
  // RFC 9051 §6.4.5.1: MIME must be prefixed by a part number; HEADER/TEXT after a number need a MESSAGE/RFC822 part.
  assert.equal(section(COMPLEX, 'MIME'), null);
  assert.equal(section(COMPLEX, '1.HEADER'), null);
  assert.equal(section(COMPLEX, '1.TEXT'), null);
  assert.equal(section(COMPLEX, '4.HEADER'), null);
  assert.equal(section(COMPLEX, '4.1.HEADER.FIELDS (FROM)'), null);
});

const SIMPLE = bytes(crlf(`Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000
Date: Mon, 1 Jan 2024 00:00:01 +0000
From: Alice <alice@example.com>
Subject: a folded
 subject line
received: from c by d; Mon, 1 Jan 2024 00:00:02 +0000
To: bob@example.com

Hello Bob.
Second line.
`));

test('a non-MIME message has only part 1, its body (RFC 9051 §6.4.5.1)', () => {
  assert.equal(section(SIMPLE, '1'), crlf('Hello Bob.\nSecond line.\n'));
  assert.equal(section(SIMPLE, 'TEXT'), crlf('Hello Bob.\nSecond line.\n'));
  assert.equal(section(SIMPLE, '2'), null);
  assert.equal(section(SIMPLE, '1.1'), null);
});

test('HEADER.FIELDS: every occurrence, in message order, folding kept, blank line appended, case-insensitive', () => {
  assert.equal(
    section(SIMPLE, 'HEADER.FIELDS (SUBJECT RECEIVED)'),
    crlf(`Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000
Subject: a folded
 subject line
received: from c by d; Mon, 1 Jan 2024 00:00:02 +0000

`),
  );
  assert.equal(section(SIMPLE, 'HEADER.FIELDS (date FROM)'), crlf('Date: Mon, 1 Jan 2024 00:00:01 +0000\nFrom: Alice <alice@example.com>\n\n'));
  // No match: the subset is empty but the delimiting blank line is still there (RFC 9051 §6.4.5).
  assert.equal(section(SIMPLE, 'HEADER.FIELDS (X-NOT-THERE)'), '\r\n');
});

test('HEADER.FIELDS.NOT returns the non-matching fields plus the blank line', () => {
  assert.equal(
    section(SIMPLE, 'HEADER.FIELDS.NOT (Received Subject DATE)'),
    crlf('From: Alice <alice@example.com>\nTo: bob@example.com\n\n'),
  );
});

test('HEADER.FIELDS matches whole field names only (no prefix match)', () => {
  const raw = bytes(crlf('Subject: s\nSubjectX: no\nX-Subject: no\n\nbody'));
  assert.equal(section(raw, 'HEADER.FIELDS (SUBJECT)'), crlf('Subject: s\n\n'));
});

test('headerFieldsFromRaw gives the top-level HEADER.FIELDS subset', () => {
  assert.equal(dec.decode(headerFieldsFromRaw(SIMPLE, ['to', 'DATE'])), crlf('Date: Mon, 1 Jan 2024 00:00:01 +0000\nTo: bob@example.com\n\n'));
  assert.equal(dec.decode(headerFieldsFromRaw(SIMPLE, ['received', 'subject', 'date', 'from'], true)), crlf('To: bob@example.com\n\n'));
  // A bare header block (as a cache might hold it) works the same.
  assert.equal(dec.decode(headerFieldsFromRaw(bytes(crlf('A: 1\nB: 2\n\n')), ['b'])), crlf('B: 2\n\n'));
});

test('message/rfc822 attachment with a single-part inner message', () => {
  const inner = crlf('From: x@example.com\nSubject: inner\n\nInner body.\n');
  const raw = bytes(crlf(`Subject: outer
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=utf-8

See attached.
--b
Content-Type: message/rfc822
Content-Disposition: attachment

`) + inner + crlf('\n--b--\n'));
  assert.equal(section(raw, '1'), 'See attached.');
  // Part 2's body is the encapsulated message; its CRLF before the delimiter belongs to the delimiter.
  assert.equal(section(raw, '2'), inner);
  assert.equal(section(raw, '2.HEADER'), crlf('From: x@example.com\nSubject: inner\n\n'));
  assert.equal(section(raw, '2.HEADER.FIELDS (SUBJECT)'), crlf('Subject: inner\n\n'));
  assert.equal(section(raw, '2.TEXT'), crlf('Inner body.\n'));
  // The inner message is not multipart: its only part, 2.1, is its body.
  assert.equal(section(raw, '2.1'), crlf('Inner body.\n'));
  assert.equal(section(raw, '2.2'), null);
  assert.equal(section(raw, '2.MIME'), crlf('Content-Type: message/rfc822\nContent-Disposition: attachment\n\n'));
});

test('bare LF messages: bytes returned as stored, synthesized blank line is LF', () => {
  const text = `Subject: lf only
Content-Type: multipart/alternative; boundary=zz

--zz
Content-Type: text/plain

plain
--zz
Content-Type: text/html

<p>html</p>
--zz--
`;
  const raw = bytes(text);
  assert.equal(section(raw, ''), text);
  assert.equal(section(raw, 'HEADER'), 'Subject: lf only\nContent-Type: multipart/alternative; boundary=zz\n\n');
  assert.equal(section(raw, 'HEADER.FIELDS (SUBJECT)'), 'Subject: lf only\n\n');
  assert.equal(section(raw, '1'), 'plain');
  assert.equal(section(raw, '2'), '<p>html</p>');
  assert.equal(section(raw, '2.MIME'), 'Content-Type: text/html\n\n');
});

test('8-bit header octets are returned exactly, including invalid UTF-8', () => {
  const head = [...bytes('Subject: Gr\u00fc\u00dfe \u2014 caf'), 0xe9, ...bytes('\r\nFrom: J\u00f6rg <j@example.com>\r\n\r\n')];
  const raw = new Uint8Array([...head, ...bytes('body\r\n')]);
  const subj = extractSection(raw, parseStructure(raw), { part: [], kind: 'HEADER.FIELDS', fields: ['subject'] });
  assert.deepEqual(subj, new Uint8Array([...bytes('Subject: Gr\u00fc\u00dfe \u2014 caf'), 0xe9, 13, 10, 13, 10]));
  const header = extractSection(raw, parseStructure(raw), { part: [], kind: 'HEADER' });
  assert.deepEqual(header, new Uint8Array(head));
});

test('missing final boundary: the last part runs to the end of the message', () => {
  const raw = bytes(crlf(`Content-Type: multipart/mixed; boundary=cut

--cut
Content-Type: text/plain

first
--cut
Content-Type: text/plain

second, truncated
`));
  assert.equal(section(raw, '1'), 'first');
  assert.equal(section(raw, '2'), crlf('second, truncated\n'));
  assert.equal(section(raw, '3'), null);
});

test('missing close delimiter of a nested multipart ends at the outer delimiter', () => {
  const raw = bytes(crlf(`Content-Type: multipart/mixed; boundary=out

--out
Content-Type: multipart/alternative; boundary=in

--in

inner one
--in

inner two
--out

last
--out--
`));
  assert.equal(section(raw, '1.1'), 'inner one');
  assert.equal(section(raw, '1.2'), 'inner two');
  assert.equal(section(raw, '2'), 'last');
  // A part with no header fields starts with the blank line: its MIME header is just that line.
  assert.equal(section(raw, '2.MIME'), '\r\n');
});

test('a message with no body and no blank line: header fetches add no blank line (RFC 9051 §7.5.2)', () => {
  const raw = bytes(crlf('Subject: only a header\nFrom: a@example.com\n'));
  assert.equal(section(raw, 'HEADER'), crlf('Subject: only a header\nFrom: a@example.com\n'));
  assert.equal(section(raw, 'HEADER.FIELDS (FROM)'), crlf('From: a@example.com\n'));
  assert.equal(section(raw, 'TEXT'), '');
});

test('a non-field line inside the header is skipped: the header still ends only at the empty line (as Dovecot)', () => {
  const raw = bytes(crlf('Subject: s\nthis line is not a header field\nFrom: a@example.com\n\nbody\n'));
  assert.equal(section(raw, 'HEADER'), crlf('Subject: s\nthis line is not a header field\nFrom: a@example.com\n\n'));
  assert.equal(section(raw, 'HEADER.FIELDS (FROM)'), crlf('From: a@example.com\n\n'), 'fields after the bad line are found');
  assert.equal(section(raw, 'TEXT'), crlf('body\n'));
});

test('boundary lines with transport padding, and multipart parts with empty bodies', () => {
  const raw = bytes(crlf('Content-Type: multipart/mixed; boundary=p\n\n--p  \n\n--p\t\nContent-Type: text/plain\n\nx\n--p-- trailing\n'));
  assert.equal(section(raw, '1'), '');
  assert.equal(section(raw, '2'), 'x');
});

test('applyPartial (RFC 9051 §6.4.5 <origin.octets>)', () => {
  const data = bytes('0123456789');
  assert.equal(dec.decode(applyPartial(data, 0, 4)), '0123');
  assert.equal(dec.decode(applyPartial(data, 8, 10)), '89');
  assert.equal(dec.decode(applyPartial(data, 10, 5)), '');
  assert.equal(dec.decode(applyPartial(data, 50, 5)), '');
  assert.equal(dec.decode(applyPartial(data, 3, 0)), '');
  // "BODY[]<0.2048> of a 1500-octet message will return BODY[]<0> with a literal of size 1500".
  assert.equal(applyPartial(new Uint8Array(1500), 0, 2048).length, 1500);
  // A substring of HEADER.FIELDS is calculated after subsetting.
  const subset = extractSection(SIMPLE, parseStructure(SIMPLE), { part: [], kind: 'HEADER.FIELDS', fields: ['TO'] })!;
  assert.equal(dec.decode(applyPartial(subset, 4, 3)), 'bob');
});

test('a field name with 8-bit octets is still a header field; the header does not end early', () => {
  const raw = new Uint8Array([...bytes('X-T'), 0xc3, 0xa4, ...bytes('g: 1\r\nSubject: s\r\n\r\nbody')]);
  assert.equal(section(raw, 'HEADER.FIELDS (SUBJECT)'), crlf('Subject: s\n\n'));
  assert.equal(section(raw, 'TEXT'), 'body');
});
