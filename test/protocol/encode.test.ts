// Encoder known answers, from the S: lines of RFC examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codes, encodeResponse, encodeStatusError, formatDateTime } from '../../src/protocol/encode.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import type { Response } from '../../src/protocol/types.ts';

const dec = new TextDecoder();
const enc = new TextEncoder();
const wire = (r: Response, utf8 = false) => dec.decode(encodeResponse(r, { utf8 }));
const is = (r: Response, expected: string, utf8 = false) => assert.equal(wire(r, utf8), `${expected}\r\n`);

test('RFC 9051 §6.3.2 SELECT response lines', () => {
  is({ type: 'EXISTS', count: 172 }, '* 172 EXISTS');
  is({ type: 'RECENT', count: 1 }, '* 1 RECENT');
  is({ type: 'status', status: 'OK', code: codes.uidValidity(3857529045), text: 'UIDs valid' },
    '* OK [UIDVALIDITY 3857529045] UIDs valid');
  is({ type: 'status', status: 'OK', code: codes.uidNext(4392), text: 'Predicted next UID' },
    '* OK [UIDNEXT 4392] Predicted next UID');
  is({ type: 'FLAGS', flags: ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] },
    '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
  is({ type: 'status', status: 'OK', code: codes.permanentFlags(['\\Deleted', '\\Seen', '\\*']), text: 'Limited' },
    '* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited');
  is({ type: 'tagged', tag: 'A142', status: 'OK', code: { name: 'READ-WRITE' }, text: 'SELECT completed' },
    'A142 OK [READ-WRITE] SELECT completed');
  is({ type: 'status', status: 'OK', code: codes.highestModseq(715194045007), text: 'Highest' },
    '* OK [HIGHESTMODSEQ 715194045007] Highest');
});

test('RFC 9051 status responses, continuation, greeting, BYE', () => {
  is({ type: 'status', status: 'OK', code: codes.capability(['IMAP4rev2', 'STARTTLS', 'AUTH=GSSAPI']), text: 'Server ready' },
    '* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI] Server ready');
  is({ type: 'status', status: 'PREAUTH', text: 'IMAP4rev2 server logged in as Smith' }, '* PREAUTH IMAP4rev2 server logged in as Smith');
  is({ type: 'status', status: 'BYE', text: 'Autologout; idle for too long' }, '* BYE Autologout; idle for too long');
  is({ type: 'continue', text: 'Ready for additional command text' }, '+ Ready for additional command text');
  is({ type: 'continue', text: '' }, '+ ');
  is({ type: 'tagged', tag: 'A003', status: 'OK', code: codes.appendUid(38505, [3955]), text: 'APPEND completed' },
    'A003 OK [APPENDUID 38505 3955] APPEND completed');
  // RFC 4315 §3 / RFC 9051 §7.1 COPYUID example.
  is({ type: 'tagged', tag: 'A004', status: 'OK', code: codes.copyUid(38505, [304, 319, 320], [3956, 3957, 3958]), text: 'Done' },
    'A004 OK [COPYUID 38505 304,319:320 3956:3958] Done');
  is({ type: 'tagged', tag: 'a', status: 'NO', code: codes.modified([7, 9]), text: 'Conditional STORE failed' },
    'a NO [MODIFIED 7,9] Conditional STORE failed');
  // Text never carries CR/LF (response injection).
  is({ type: 'tagged', tag: 'a', status: 'NO', text: 'bad\r\n* OK injected' }, 'a NO bad * OK injected');
});

test('encodeStatusError', () => {
  assert.equal(dec.decode(encodeStatusError('a1', ImapError.no('Mailbox does not exist', 'NONEXISTENT'))),
    'a1 NO [NONEXISTENT] Mailbox does not exist\r\n');
  assert.equal(dec.decode(encodeStatusError('a1', ImapError.bad('Missing mailbox name'))), 'a1 BAD Missing mailbox name\r\n');
  assert.equal(dec.decode(encodeStatusError('a1', ImapError.bye('Too many errors'))), '* BYE Too many errors\r\n');
  assert.equal(dec.decode(encodeStatusError(null, ImapError.bad('Junk'))), '* BAD Junk\r\n');
});

test('CAPABILITY, ENABLED, ID, NAMESPACE', () => {
  is({ type: 'CAPABILITY', capabilities: ['IMAP4rev2', 'STARTTLS', 'AUTH=GSSAPI', 'LOGINDISABLED'] },
    '* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED');
  is({ type: 'ENABLED', capabilities: ['CONDSTORE'] }, '* ENABLED CONDSTORE');
  is({ type: 'ID', params: [['name', 'Cyrus'], ['version', '1.5'], ['os', 'sunos'], ['support-url', null]] },
    '* ID ("name" "Cyrus" "version" "1.5" "os" "sunos" "support-url" NIL)');
  is({ type: 'ID', params: null }, '* ID NIL');
  // RFC 2342 §5 example 5.1 / RFC 9051 §7.3.1.
  is({ type: 'NAMESPACE', personal: [{ prefix: '', delimiter: '/' }], other: null, shared: null }, '* NAMESPACE (("" "/")) NIL NIL');
  is({ type: 'NAMESPACE', personal: [{ prefix: '', delimiter: '/' }], other: [{ prefix: '~', delimiter: '/' }], shared: [{ prefix: '#shared/', delimiter: '/' }] },
    '* NAMESPACE (("" "/")) (("~" "/")) (("#shared/" "/"))');
});

test('LIST / LSUB / STATUS (RFC 9051 §7.3, RFC 5258 §5)', () => {
  is({ type: 'LIST', attributes: ['\\Noselect'], delimiter: '/', mailbox: '~/Mail/foo' }, '* LIST (\\Noselect) "/" ~/Mail/foo');
  is({ type: 'LIST', attributes: [], delimiter: '.', mailbox: 'blurdybloop' }, '* LIST () "." blurdybloop');
  is({ type: 'LIST', attributes: ['\\HasNoChildren'], delimiter: '/', mailbox: 'Sent Mail' }, '* LIST (\\HasNoChildren) "/" "Sent Mail"');
  is({ type: 'LIST', attributes: ['\\Noselect'], delimiter: null, mailbox: '' }, '* LIST (\\Noselect) NIL ""');
  is({ type: 'LIST', attributes: [], delimiter: '/', mailbox: 'Foo', extended: [{ tag: 'CHILDINFO', value: ['SUBSCRIBED'] }] },
    '* LIST () "/" Foo ("CHILDINFO" ("SUBSCRIBED"))');
  is({ type: 'LIST', attributes: [], delimiter: '/', mailbox: 'NewMailbox', extended: [{ tag: 'OLDNAME', value: ['OldMailbox'] }] },
    '* LIST () "/" NewMailbox ("OLDNAME" ("OldMailbox"))');
  is({ type: 'LIST', attributes: [], delimiter: '/', mailbox: 'a*b' }, '* LIST () "/" "a*b"');
  is({ type: 'LSUB', attributes: [], delimiter: '.', mailbox: '#news.comp.mail.misc' }, '* LSUB () "." #news.comp.mail.misc');
  is({ type: 'STATUS', mailbox: 'blurdybloop', attributes: [{ item: 'MESSAGES', value: 231 }, { item: 'UIDNEXT', value: 44292 }] },
    '* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)');
  is({ type: 'STATUS', mailbox: 'foo', attributes: [{ item: 'MAILBOXID', value: 'F2212ea87-6097-4256-9d51-71338625' }] },
    '* STATUS foo (MAILBOXID (F2212ea87-6097-4256-9d51-71338625))');
});

test('message numbers: EXPUNGE, VANISHED, SEARCH, ESEARCH, SORT, THREAD', () => {
  is({ type: 'EXPUNGE', seq: 3 }, '* 3 EXPUNGE');
  is({ type: 'VANISHED', earlier: true, uids: [41, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211] },
    '* VANISHED (EARLIER) 41,43:211');
  is({ type: 'VANISHED', earlier: false, uids: [405, 407, 410, 425] }, '* VANISHED 405,407,410,425');
  is({ type: 'SEARCH', numbers: [2, 84, 882] }, '* SEARCH 2 84 882');
  is({ type: 'SEARCH', numbers: [] }, '* SEARCH');
  is({ type: 'SEARCH', numbers: [2, 5, 6, 7, 11, 12, 18, 19, 20, 23], modseq: 917162500 },
    '* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)');
  is({ type: 'ESEARCH', tag: 'A282', uid: false, min: 2, count: 3 }, '* ESEARCH (TAG "A282") MIN 2 COUNT 3');
  is({ type: 'ESEARCH', tag: 'A283', uid: false, all: [2, 10, 11] }, '* ESEARCH (TAG "A283") ALL 2,10:11');
  is({ type: 'ESEARCH', tag: 'A285', uid: true, min: 7, max: 3800 }, '* ESEARCH (TAG "A285") UID MIN 7 MAX 3800');
  is({ type: 'ESEARCH', tag: 'A284', uid: false }, '* ESEARCH (TAG "A284")');
  is({ type: 'SORT', numbers: [2, 84, 882] }, '* SORT 2 84 882');
  // RFC 5256 §4 example: (2)(3 6 (4 23)(44 7 96)).
  is({
    type: 'THREAD', threads: [
      { id: 2, children: [] },
      { id: 3, children: [{ id: 6, children: [{ id: 4, children: [{ id: 23, children: [] }] }, { id: 44, children: [{ id: 7, children: [{ id: 96, children: [] }] }] }] }] },
    ],
  }, '* THREAD (2)(3 6 (4 23)(44 7 96))');
  is({ type: 'THREAD', threads: [{ id: null, children: [{ id: 3, children: [] }, { id: 5, children: [] }] }] }, '* THREAD ((3)(5))');
});

test('FETCH (RFC 9051 §7.5.2 example and every item)', () => {
  is({
    type: 'FETCH', seq: 12, items: [
      { type: 'FLAGS', flags: ['\\Seen'] },
      { type: 'INTERNALDATE', date: '17-Jul-1996 02:44:25 -0700' },
      { type: 'RFC822.SIZE', size: 4286 },
    ],
  }, '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286)');
  is({
    type: 'FETCH', seq: 12, items: [{
      type: 'ENVELOPE', envelope: {
        date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)', subject: 'IMAP4rev2 WG mtg summary and minutes',
        from: [{ name: 'Terry Gray', adl: null, mailbox: 'gray', host: 'cac.washington.edu' }],
        sender: [{ name: 'Terry Gray', adl: null, mailbox: 'gray', host: 'cac.washington.edu' }],
        replyTo: [{ name: 'Terry Gray', adl: null, mailbox: 'gray', host: 'cac.washington.edu' }],
        to: [{ name: null, adl: null, mailbox: 'imap', host: 'cac.washington.edu' }],
        cc: [{ name: null, adl: null, mailbox: 'minutes', host: 'CNRI.Reston.VA.US' }, { name: 'John Klensin', adl: null, mailbox: 'KLENSIN', host: 'MIT.EDU' }],
        bcc: null, inReplyTo: null, messageId: '<B27397-0100000@cac.washington.edu>',
      },
    }],
  }, '* 12 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" ' +
    '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
    '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
    '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
    '"<B27397-0100000@cac.washington.edu>"))');
  is({
    type: 'FETCH', seq: 12, items: [{
      type: 'BODYSTRUCTURE', extended: false,
      structure: [{ atom: '"TEXT"' }, 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7BIT', 3028, 92],
    }],
  }, '* 12 FETCH (BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))');
  is({ type: 'FETCH', seq: 2, items: [{ type: 'UID', uid: 4827313 }, { type: 'MODSEQ', modseq: 624140003 }] },
    '* 2 FETCH (UID 4827313 MODSEQ (624140003))');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'EMAILID', id: 'M6d99ac3275bb4e' }, { type: 'THREADID', id: 'T64b478a75b7ea9' }] },
    '* 1 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9))');
  is({ type: 'FETCH', seq: 2, items: [{ type: 'THREADID', id: null }] }, '* 2 FETCH (THREADID NIL)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'PREVIEW', text: 'Hello, world' }] }, '* 1 FETCH (PREVIEW "Hello, world")');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'PREVIEW', text: null }] }, '* 1 FETCH (PREVIEW NIL)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'BINARY.SIZE', part: [1], size: 2121 }] }, '* 1 FETCH (BINARY.SIZE[1] 2121)');
});

test('FETCH body data is always a literal; BINARY with NUL is literal8 (RFC 3516 §4.3)', () => {
  const data = enc.encode('Date: x\r\n\r\n');
  is({ type: 'FETCH', seq: 2, items: [{ type: 'BODY', section: { part: [], kind: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] }, data }] },
    '* 2 FETCH (BODY[HEADER.FIELDS (DATE FROM)] {11}\r\nDate: x\r\n\r\n)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'BODY', section: { part: [1, 2], kind: 'MIME' }, origin: 0, data: enc.encode('ab') }] },
    '* 1 FETCH (BODY[1.2.MIME]<0> {2}\r\nab)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'BODY', section: { part: [] }, data: null }] }, '* 1 FETCH (BODY[] NIL)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'RFC822.HEADER', data: enc.encode('a') }] }, '* 1 FETCH (RFC822.HEADER {1}\r\na)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'BINARY', part: [1], data: new Uint8Array([0x61, 0, 0x62]) }] },
    '* 1 FETCH (BINARY[1] ~{3}\r\na\0b)');
  is({ type: 'FETCH', seq: 1, items: [{ type: 'BINARY', part: [1], data: enc.encode('ab') }] }, '* 1 FETCH (BINARY[1] {2}\r\nab)');
});

test('string rule: quoted when short 7-bit text, else literal; UTF-8 quoted only with UTF8=ACCEPT', () => {
  is({ type: 'untagged', data: [{ atom: 'X' }, 'a "b" \\c'] }, '* X "a \\"b\\" \\\\c"');
  is({ type: 'untagged', data: [{ atom: 'X' }, 'two\r\nlines'] }, '* X {10}\r\ntwo\r\nlines');
  is({ type: 'untagged', data: [{ atom: 'X' }, 'x'.repeat(1001)] }, `* X {1001}\r\n${'x'.repeat(1001)}`);
  is({ type: 'untagged', data: [{ atom: 'X' }, 'Grüße'] }, '* X {7}\r\nGrüße');
  is({ type: 'untagged', data: [{ atom: 'X' }, 'Grüße'] }, '* X "Grüße"', true);
  is({ type: 'untagged', data: [{ atom: 'JMAPACCESS' }, 'https://example.com/jmap'] }, '* JMAPACCESS "https://example.com/jmap"');
  is({ type: 'untagged', data: [{ atom: 'X' }, null, 7, [1, [null]], new Uint8Array([0x41])] }, '* X NIL 7 (1 (NIL)) {1}\r\nA');
  is({ type: 'STATUS', mailbox: 'Entwürfe', attributes: [{ item: 'MESSAGES', value: 1 }] }, '* STATUS "Entwürfe" (MESSAGES 1)', true);
});

test('QUOTA / QUOTAROOT (RFC 9208 §5)', () => {
  is({ type: 'QUOTAROOT', mailbox: 'INBOX', roots: [''] }, '* QUOTAROOT INBOX ""');
  is({ type: 'QUOTA', root: '', resources: [{ name: 'STORAGE', usage: 10, limit: 512 }] }, '* QUOTA "" (STORAGE 10 512)');
  is({ type: 'QUOTA', root: '#user/alice', resources: [{ name: 'MESSAGE', usage: 42, limit: 1000 }] }, '* QUOTA #user/alice (MESSAGE 42 1000)');
});

test('formatDateTime (RFC 9051 §9 date-time)', () => {
  assert.equal(formatDateTime(new Date('1996-07-17T09:44:25Z')), '17-Jul-1996 09:44:25 +0000');
  assert.equal(formatDateTime('2024-01-05T23:59:59.123Z'), ' 5-Jan-2024 23:59:59 +0000');
  assert.equal(formatDateTime('17-Jul-1996 02:44:25 -0700'), '17-Jul-1996 02:44:25 -0700');
  assert.throws(() => formatDateTime('yesterday'));
});
