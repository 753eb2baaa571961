// Failure cases: parseCommand answers ok:false with the tag (or null) and a reason; it never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIdleDone, parseCommand, parseSaslResponse } from '../../src/protocol/parse.ts';

const enc = new TextEncoder();

function bad(input: string, tag: string | null, textPart: RegExp, opts?: { utf8?: boolean }) {
  const r = parseCommand(enc.encode(`${input}\r\n`), opts);
  assert.equal(r.ok, false, input);
  if (r.ok) return;
  assert.equal(r.tag, tag, input);
  assert.match(r.text, textPart, input);
  assert.doesNotMatch(r.text, /[\r\n]/);
}

test('missing arguments and missing spaces', () => {
  bad('a SELECT', 'a', /Missing mailbox name/);
  bad('a SELECT ', 'a', /mailbox name/);
  bad('a LOGIN fred', 'a', /Missing password/);
  bad('a COPY 1:2', 'a', /Missing destination mailbox/);
  bad('a FETCH 1', 'a', /Missing fetch items/);
  bad('a STATUS INBOX', 'a', /Missing status items/);
  bad('a RENAME x', 'a', /Missing new mailbox name/);
  bad('a SEARCH', 'a', /Missing search keys/);
  bad('a  NOOP', 'a', /space/i);
  bad('a SELECT  INBOX', 'a', /Extra space/);
});

test('trailing garbage and unknown words', () => {
  bad('a NOOP now', 'a', /Unexpected extra arguments: now/);
  bad('a SELECT INBOX)', 'a', /at: \)/);
  bad('a NOOP)', 'a', /Unexpected characters: \)/);
  bad('a FETCH 1 (FLAGS', 'a', /Missing "\)"/);
  bad('a FETCH 1 (FLAGS FOO)', 'a', /Unknown fetch item FOO/);
  bad('a SEARCH FOO', 'a', /Unknown search key FOO/);
  bad('a STATUS INBOX (MESSAGES BOGUS)', 'a', /Unknown status item BOGUS/);
  bad('a LIST (BOGUS) "" *', 'a', /Unknown LIST selection option BOGUS/);
  bad('a LIST "" * RETURN (BOGUS)', 'a', /Unknown LIST return option BOGUS/);
  bad('a SELECT INBOX (BOGUS)', 'a', /Unknown SELECT parameter BOGUS/);
  bad('a STORE 1 FLAGZ (\\Seen)', 'a', /STORE action/);
  bad('a UID LOGIN x y', 'a', /UID LOGIN is not a command/);
});

test('unknown commands are flagged for the pre-auth counter', () => {
  const r = parseCommand(enc.encode('a XPIG-LATIN\r\n'));
  assert.deepEqual(r, { ok: false, tag: 'a', text: 'Unknown command XPIG-LATIN', unknownCommand: true });
  const http = parseCommand(enc.encode('GET / HTTP/1.1\r\n'));
  assert.equal(http.ok, false);
  assert.equal(!http.ok && http.unknownCommand, true);
});

test('tags: invalid or missing tag gives tag null', () => {
  bad('', null, /Empty command line/);
  bad('+ NOOP', null, /tag/);
  bad('* NOOP', null, /tag/);
  bad('a{b NOOP', null, /Invalid character in tag/);
  bad('abc', 'abc', /Missing command name/);
});

test('numbers, sequence sets and dates', () => {
  bad('a FETCH 0 FLAGS', 'a', /must not be zero/);
  bad('a FETCH 1:0 FLAGS', 'a', /must not be zero/);
  bad('a FETCH 4294967296 FLAGS', 'a', /too large/);
  bad('a FETCH 1,,2 FLAGS', 'a', /message set/);
  bad('a FETCH x FLAGS', 'a', /message set/);
  bad('a SEARCH SINCE 1-Foo-1994', 'a', /Invalid date/);
  bad('a SEARCH SINCE 30-Feb-1994', 'a', /Invalid date/);
  bad('a SEARCH SINCE 1994-02-01', 'a', /Invalid date/);
  bad('a APPEND x "17-Jul-1996 25:44:25 -0700" {1}\r\na', 'a', /date-time/);
});

test('strings and literals', () => {
  bad('a LOGIN "fred foo', 'a', /Unterminated quoted string/);
  bad('a LOGIN "fr\\ed" x', 'a', /Invalid escape/);
  bad('a LOGIN {10}\r\nabc', 'a', /shorter than announced/);
  bad('a APPEND x (\\Seen) "not a date"', 'a', /Invalid APPEND date-time \(expected e.g. "17-Jul-1996/);
  bad('a APPEND x (\\Seen) foo', 'a', /must be sent as a literal/);
  const r = parseCommand(new Uint8Array([...enc.encode('a SELECT "'), 0xff, 0xfe, ...enc.encode('"\r\n')]));
  assert.deepEqual(r, { ok: false, tag: 'a', text: 'Invalid UTF-8 in mailbox name' });
  bad('a APPEND x UTF8 (~{1}\r\na)', 'a', /ENABLE UTF8=ACCEPT/);
});

test('extension rules: RECURSIVEMATCH alone, VANISHED without UID or CHANGEDSINCE, MIME without part', () => {
  bad('a LIST (RECURSIVEMATCH) "" *', 'a', /RECURSIVEMATCH/);
  bad('a FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)', 'a', /UID FETCH/);
  bad('a UID FETCH 1:* (FLAGS) (VANISHED)', 'a', /CHANGEDSINCE/);
  bad('a FETCH 1 BODY[MIME]', 'a', /MIME needs a part number/);
  bad('a FETCH 1 BODY[1.]', 'a', /section/);
  bad('a FETCH 1 BODY.PEEK', 'a', /needs a section/);
  bad('a FETCH 1 BINARY[HEADER]', 'a', /only part numbers/);
  bad('a FETCH 1 BODY[]<5.0>', 'a', /must not be zero/);
});

test('limits: nesting depth, sequence ranges, search keys', () => {
  const deep = `a SEARCH ${'('.repeat(40)}ALL${')'.repeat(40)}`;
  bad(deep, 'a', /Too deeply nested/);
  const ok = parseCommand(enc.encode(`a SEARCH ${'('.repeat(10)}ALL${')'.repeat(10)}\r\n`));
  assert.equal(ok.ok, true);
  const many = `a FETCH ${Array.from({ length: 20 }, (_, i) => i * 2 + 1).join(',')} FLAGS`;
  const r = parseCommand(enc.encode(`${many}\r\n`), { limits: { maxSequenceRanges: 10 } });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.text : '', /Too many ranges/);
  const keys = parseCommand(enc.encode(`a SEARCH ${'SEEN '.repeat(20)}ALL\r\n`), { limits: { maxSearchKeys: 5 } });
  assert.match(!keys.ok ? keys.text : '', /Too many search keys/);
});

test('parseSaslResponse (RFC 9051 §6.2.2)', () => {
  assert.deepEqual(parseSaslResponse(enc.encode('*\r\n')), { type: 'cancel' });
  assert.deepEqual(parseSaslResponse(enc.encode('\r\n')), { type: 'response', data: new Uint8Array() });
  assert.deepEqual(parseSaslResponse(enc.encode('dGVzdAB0ZXN0AHRlc3Q=\r\n')),
    { type: 'response', data: enc.encode('test\0test\0test') });
  assert.equal(parseSaslResponse(enc.encode('not base64!\r\n')).type, 'invalid');
  assert.equal(parseSaslResponse(enc.encode('abc\r\n')).type, 'invalid');
});

test('isIdleDone (RFC 2177 §3)', () => {
  assert.equal(isIdleDone(enc.encode('DONE\r\n')), true);
  assert.equal(isIdleDone(enc.encode('done\n')), true);
  assert.equal(isIdleDone(enc.encode('DONE now\r\n')), false);
  assert.equal(isIdleDone(enc.encode('a1 DONE\r\n')), false);
});
