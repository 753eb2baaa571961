/**
 * SEARCH, ESEARCH, SEARCHRES, SORT and THREAD end to end over the hand-built mailbox of test/search/mailbox.ts.
 * Every expected answer is worked out by hand from that mailbox and the RFC text (RFC 9051 §6.4.4, RFC 4731,
 * RFC 5182, RFC 5256, RFC 5957); the comments say why. HTTP requests to the JMAP store are counted to prove that
 * flag/size/date/UID searches download nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { importAll } from '../search/mailbox.ts';

let bed: TestBed;
const http = { api: 0, download: 0, headerGets: 0 };
let c: RawClient;

before(async () => {
  let url = '';
  const counting: typeof fetch = async (input, init) => {
    const u = String(input instanceof Request ? input.url : input);
    if (u.includes('/download/')) http.download++;
    else if (init?.method === 'POST') {
      http.api++;
      if (String(init.body ?? '').includes('"header:')) http.headerGets++;
    }
    return fetch(input, init);
  };
  bed = await startTestBed({
    gateway: {
      authenticator: {
        login: (creds) => jmapBasicAuthenticator({ sessionUrl: `${url}/.well-known/jmap`, tenant: 'test', fetch: counting }).login(creds),
      },
    },
  });
  url = bed.jmapUrl;
  importAll(bed);
  c = await RawClient.connect(bed.imapPort);
  await c.line();
  assert.match((await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^l OK/);
  assert.match((await c.command('s', 'SELECT INBOX')).at(-1)!, /^s OK/);
});
after(async () => {
  c.close();
  await bed.close();
});

let n = 0;
/** Runs a command; returns its untagged lines, asserting the tagged OK. */
async function ok(cmd: string): Promise<string[]> {
  const tag = `t${++n}`;
  const r = await c.command(tag, cmd);
  assert.match(r.at(-1)!, new RegExp(`^${tag} OK`), `${cmd}\n${r.join('\n')}`);
  return r.slice(0, -1);
}

async function search(criteria: string): Promise<string> {
  const r = await ok(`SEARCH ${criteria}`);
  assert.equal(r.length, 1, r.join('\n'));
  return r[0]!;
}

const CASES: Array<[string, string, string]> = [
  // [criteria, expected * SEARCH numbers, why]
  ['ALL', '1 2 3 4 5 6 7 8 9 10', 'every message'],
  ['SEEN', '1 2 10', '$seen on 1, 2, 10'],
  ['UNSEEN', '3 4 5 6 7 8 9', 'the others'],
  ['ANSWERED', '2', ''],
  ['UNANSWERED', '1 3 4 5 6 7 8 9 10', ''],
  ['FLAGGED', '3 10', ''],
  ['DRAFT', '5', ''],
  ['UNDRAFT', '1 2 3 4 6 7 8 9 10', ''],
  ['KEYWORD $Forwarded', '4', 'JMAP keyword $forwarded, case-insensitive'],
  ['KEYWORD custom1', '9', ''],
  ['UNKEYWORD custom1', '1 2 3 4 5 6 7 8 10', ''],
  ['NEW', '', 'no message is \\Recent'],
  ['RECENT', '', ''],
  ['OLD', '1 2 3 4 5 6 7 8 9 10', ''],
  ['LARGER 3000', '5', 'only 5 is over 3000 octets'],
  ['LARGER 463', '5', '4 is exactly 463 octets: not larger'],
  ['SMALLER 160', '6 9', '137 and 155 octets'],
  ['BEFORE 3-Jan-2024', '1', 'internal date 2024-01-03T05:00Z of 2 is ON the 3rd'],
  ['ON 3-Jan-2024', '2', ''],
  ['ON 15-Jan-2024', '6', 'received 23:59:59 UTC on the 15th: its UTC day'],
  ['SINCE 1-Feb-2024', '7 8 9 10', ''],
  ['SENTON 2-Jan-2024', '2', 'Date: Tue, 02 Jan 2024 23:30 -0500 is the 2nd in its own zone (the 3rd in UTC)'],
  ['SENTBEFORE 2-Jan-2024', '1', ''],
  ['SENTSINCE 3-Feb-2024', '8 10', '9 was sent on the 2nd; 10 has an obsolete date form'],
  ['SENTON 15-Jan-2024', '6', 'no Date: header: the internal date stands in'],
  ['FROM "smith"', '1 10', 'display names, case-insensitive'],
  ['NOT FROM "Smith"', '2 3 4 5 6 7 8 9', ''],
  ['FROM "MÜLLER"', '3', 'RFC 2047 encoded word, case-insensitive beyond ASCII'],
  ['SUBJECT "grüße"', '3', 'base64 encoded word'],
  ['SUBJECT "CAFÉ"', '7', 'raw 8-bit header'],
  ['SUBJECT "meeting"', '1 2 5', ''],
  ['TO "team"', '4', ''],
  ['CC "carol"', '2', ''],
  ['BCC "x"', '', 'no Bcc anywhere'],
  ['HEADER X-Custom ""', '6', 'empty string: the field exists'],
  ['HEADER x-custom "foo-b"', '6', ''],
  ['HEADER Message-ID "m1@example"', '1 10', ''],
  ['BODY "agenda"', '', 'only in subjects'],
  ['TEXT "agenda"', '1 2 5', 'TEXT includes the header'],
  ['BODY "budget"', '1 10', ''],
  ['BODY "grüße"', '3', 'quoted-printable UTF-8 decoded'],
  ['BODY "alexanderplatz"', '3', 'soft line break removed'],
  ['BODY "quarterly numbers"', '4', 'base64 text part (and HTML with <b>)'],
  ['BODY "attached & reviewed"', '4', 'HTML entity decoded'],
  ['TEXT "heidi@"', '8', 'From: header'],
  ['2:4', '2 3 4', 'sequence set'],
  ['8:*', '8 9 10', ''],
  ['*', '10', ''],
  ['20', '', 'beyond EXISTS: nothing'],
  ['UID 9:*', '9 10', ''],
  ['OR SEEN FLAGGED', '1 2 3 10', ''],
  ['SEEN FLAGGED', '10', 'implicit AND'],
  ['OR (FROM "bob") (SUBJECT "café")', '2 7', ''],
  ['OR OR ANSWERED DRAFT KEYWORD custom1', '2 5 9', 'nested OR'],
  ['NOT (OR SEEN (NOT SMALLER 200))', '6 9 7', ''],
  ['UNSEEN SENTSINCE 1-Feb-2024 NOT BODY "original"', '7 8', ''],
];

test('SEARCH: known answers for every key of RFC 9051 §6.4.4 / RFC 3501 §6.4.4', async () => {
  for (const [criteria, expected, why] of CASES) {
    const want = expected.split(' ').filter(Boolean).map(Number).sort((a, b) => a - b).join(' ');
    assert.equal(await search(criteria), `* SEARCH${want ? ' ' + want : ''}`, `${criteria}: ${why}`);
  }
});

test('UID SEARCH answers UIDs; DELETED sees the gateway-kept \\Deleted', async () => {
  const uids = (await ok('UID SEARCH 1:*'))[0]!.split(' ').slice(2).map(Number);
  assert.equal(uids.length, 10);
  assert.equal(await search('UID 1:*'), '* SEARCH 1 2 3 4 5 6 7 8 9 10');
  const r = await ok(`UID SEARCH UID ${uids[5]}`);
  assert.equal(r[0], `* SEARCH ${uids[5]}`);
  await ok('STORE 6 +FLAGS.SILENT (\\Deleted)');
  assert.equal(await search('DELETED'), '* SEARCH 6');
  assert.equal(await search('UNDELETED SMALLER 160'), '* SEARCH 9');
  await ok('STORE 6 -FLAGS.SILENT (\\Deleted)');
  assert.equal(await search('DELETED'), '* SEARCH');
});

test('SEARCH CHARSET: UTF-8 literal; an unknown charset is NO [BADCHARSET (US-ASCII UTF-8)]', async () => {
  const word = Buffer.from('Grüße', 'utf8');
  c.write(Buffer.concat([Buffer.from(`u1 SEARCH CHARSET UTF-8 SUBJECT {${word.length}+}\r\n`), word, Buffer.from('\r\n')]));
  assert.deepEqual(await c.until('u1').then((r) => r.slice(0, -1)), ['* SEARCH 3']);
  assert.equal(await search('CHARSET US-ASCII FROM "bob"'), '* SEARCH 2');
  const bad = await c.command('u2', 'SEARCH CHARSET KOI8-R ALL');
  assert.match(bad.at(-1)!, /^u2 NO \[BADCHARSET \(US-ASCII UTF-8\)\]/);
  const sort = await c.command('u3', 'SORT (DATE) ISO-8859-5 ALL');
  assert.match(sort.at(-1)!, /^u3 NO \[BADCHARSET \(US-ASCII UTF-8\)\]/);
});

test('a flag, size, date and UID search downloads no message and costs one JMAP request', async () => {
  const before = { ...http };
  assert.equal(await search('FLAGGED UNSEEN LARGER 100 SINCE 1-Jan-2024 UID 1:*'), '* SEARCH 3');
  assert.equal(http.download - before.download, 0);
  assert.equal(http.api - before.api, 1);
  const b2 = { ...http };
  assert.equal(await search('2:4 UID 1:3'), '* SEARCH 2 3');
  assert.equal(http.api - b2.api, 0, 'sequence and UID keys need no request at all');
});

test('header searches read header values without downloading 7-bit messages; header values and BODY text are cached', async () => {
  const before = { ...http };
  assert.equal(await search('HEADER X-Mailer ""'), '* SEARCH');
  assert.equal(http.headerGets - before.headerGets, 1, 'one Email/get of the named header values');
  assert.equal(http.download - before.download, 0);
  assert.equal(await search('OR HEADER X-Mailer "x" HEADER X-Custom "bar"'), '* SEARCH 6');
  assert.equal(await search('HEADER X-Mailer ""'), '* SEARCH');
  assert.equal(http.headerGets - before.headerGets, 1, 'cached per Email id (immutable)');
  assert.equal(await search('BODY "coffee"'), '* SEARCH 7');
  const b2 = { ...http };
  assert.equal(await search('BODY "milk"'), '* SEARCH 7');
  assert.equal(http.download - b2.download, 0, 'decoded text cached per blob');
});

test('ESEARCH (RFC 4731): MIN MAX COUNT ALL, RETURN () = ALL, UID indicator, empty results', async () => {
  assert.deepEqual(await ok('SEARCH RETURN (MIN MAX COUNT ALL) SEEN'), [`* ESEARCH (TAG "t${n}") MIN 1 MAX 10 ALL 1:2,10 COUNT 3`]);
  assert.deepEqual(await ok('SEARCH RETURN () FLAGGED'), [`* ESEARCH (TAG "t${n}") ALL 3,10`]);
  assert.deepEqual(await ok('UID SEARCH RETURN (COUNT) SEEN'), [`* ESEARCH (TAG "t${n}") UID COUNT 3`]);
  assert.deepEqual(await ok('SEARCH RETURN (MIN MAX ALL) KEYWORD nothing'), [`* ESEARCH (TAG "t${n}")`]);
  assert.deepEqual(await ok('SEARCH RETURN (COUNT) KEYWORD nothing'), [`* ESEARCH (TAG "t${n}") COUNT 0`]);
});

test('SEARCHRES (RFC 5182): SAVE, $ in FETCH / SEARCH / UID SEARCH, SAVE with MIN, failed SAVE empties $, SELECT resets', async () => {
  assert.deepEqual(await ok('SEARCH RETURN (SAVE) FLAGGED'), [], 'SAVE alone: no ESEARCH');
  assert.deepEqual((await ok('FETCH $ (RFC822.SIZE)')).map((l) => l.split(' ')[1]), ['3', '10']);
  assert.equal(await search('$ SEEN'), '* SEARCH 10');
  assert.equal((await ok('UID SEARCH UID $ SMALLER 200'))[0], '* SEARCH 10');
  assert.equal(await search('OR $ 1'), '* SEARCH 1 3 10');
  assert.deepEqual(await ok('SEARCH RETURN (SAVE MIN) FLAGGED'), [`* ESEARCH (TAG "t${n}") MIN 3`]);
  assert.equal(await search('$'), '* SEARCH 3', 'SAVE MIN keeps only the minimum');
  assert.deepEqual(await ok('SEARCH RETURN (SAVE COUNT) SEEN'), [`* ESEARCH (TAG "t${n}") COUNT 3`]);
  assert.equal(await search('$'), '* SEARCH 1 2 10', 'SAVE with COUNT keeps all');
  assert.equal(await search('SEEN'), '* SEARCH 1 2 10');
  assert.equal(await search('$'), '* SEARCH 1 2 10', 'a SEARCH without SAVE leaves $ alone');
  const bad = await c.command('x1', 'SEARCH RETURN (SAVE) CHARSET KOI8-R ALL');
  assert.match(bad.at(-1)!, /^x1 NO \[BADCHARSET/);
  assert.equal(await search('$'), '* SEARCH', 'a SAVE that failed with NO empties $');
  await ok('SEARCH RETURN (SAVE) ALL');
  await ok('SELECT INBOX');
  assert.deepEqual(await ok('FETCH $ (UID)'), [], 'SELECT resets $ to the empty sequence');
});

test('SORT (RFC 5256 §3, RFC 5957): every criterion, REVERSE, ties by sequence number, UID SORT', async () => {
  const sorts: Array<[string, string, string]> = [
    ['(SUBJECT) UTF-8 ALL', '10 7 3 8 9 1 2 5 6 4',
      'base subjects: budget, café, grüße, lost thread (8, 9: tie by seq), meeting agenda (1, 2, 5), no date, weekly report'],
    ['(DATE) UTF-8 ALL', '1 2 3 4 5 6 7 9 8 10', 'sent dates in UTC; 6 has no Date: (internal date); 9 was sent before 8'],
    ['(REVERSE ARRIVAL) US-ASCII ALL', '10 9 8 7 6 5 4 3 2 1', ''],
    ['(SIZE) UTF-8 ALL', '6 9 7 10 8 1 2 3 4 5', ''],
    ['(FROM) UTF-8 ALL', '1 2 4 5 6 7 8 9 10 3', 'addr-mailbox: alice bob carol dave frank grace heidi ivan jsmith juergen'],
    ['(CC SUBJECT) UTF-8 ALL', '10 7 3 8 9 1 5 6 4 2', 'no Cc is the empty string, which sorts first'],
    ['(TO REVERSE DATE) UTF-8 SEEN', '10 2 1', 'alice (10 newer than 2), then bob'],
    ['(DISPLAYFROM) UTF-8 ALL', '1 2 4 5 6 7 8 9 3 10', 'display name, else the address: Alice Smith, Bob, carol@, Dave, ... Jürgen, "Smith, John"'],
    ['(DISPLAYTO SIZE) UTF-8 1:5', '2 3 1 5 4', 'alice@example.com (2, 3 by size), bob@, erin@, then Team'],
  ];
  for (const [args, expected, why] of sorts) {
    assert.deepEqual(await ok(`SORT ${args}`), [`* SORT ${expected}`], `${args}: ${why}`);
  }
  assert.deepEqual(await ok('SORT (SUBJECT) UTF-8 TEXT "not in mailbox"'), ['* SORT']);
  const uids = (await ok('UID SEARCH 4:5'))[0]!.split(' ').slice(2);
  assert.deepEqual(await ok('UID SORT (REVERSE SIZE) UTF-8 LARGER 400'), [`* SORT ${uids[1]} ${uids[0]}`]);
});

test('THREAD ORDEREDSUBJECT and REFERENCES (RFC 5256 §3): replies, a forward, a missing parent, a duplicate Message-ID', async () => {
  // ORDEREDSUBJECT: one thread per base subject, children flat under the first, threads by the first's sent date.
  assert.deepEqual(await ok('THREAD ORDEREDSUBJECT UTF-8 ALL'), ['* THREAD (1 (2)(5))(3)(4)(6)(7)(9 8)(10)']);
  // REFERENCES: 2 replies to 1 and 5 references 1 then 2 (a chain); 8's parent is missing (the dummy is pruned),
  // then 8, a reply, joins 9 by subject; 10 duplicates 1's Message-ID and so gets its own.
  assert.deepEqual(await ok('THREAD REFERENCES UTF-8 ALL'), ['* THREAD (1 2 5)(3)(4)(6)(7)(9 8)(10)']);
  assert.deepEqual(await ok('THREAD REFERENCES UTF-8 NOT 2'), ['* THREAD (1 5)(3)(4)(6)(7)(9 8)(10)']);
  assert.deepEqual(await ok('THREAD ORDEREDSUBJECT US-ASCII TEXT "gewp"'), ['* THREAD']);
  const bad = await c.command('th', 'THREAD FANCY UTF-8 ALL');
  assert.match(bad.at(-1)!, /^th BAD/);
});
