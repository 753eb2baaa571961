/**
 * Known answers for the search building blocks: RFC 5256 §2.1 base subjects, RFC 2047 decoding, dates, first
 * addresses, and THREAD REFERENCES on tricky threads (RFC 5256 §3 steps 1-6 worked by hand).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSubject } from '../../src/session/search/subject.ts';
import { decodeEncodedWords } from '../../src/session/search/decode.ts';
import { parseSentDate } from '../../src/session/search/dates.ts';
import { firstAddress } from '../../src/session/search/address.ts';
import { messageIds, orderedSubject, references } from '../../src/session/search/threading.ts';
import type { MessageData } from '../../src/session/search/evaluate.ts';
import { ByteLru } from '../../src/session/search/cache.ts';
import { encodeResponse } from '../../src/protocol/encode.ts';

test('RFC 5256 §2.1 base subject: Re/Fw/Fwd leaders, blobs, (fwd) trailers, [fwd: ...] wrappers', () => {
  const cases: Array<[string, string, boolean]> = [
    ['Meeting agenda', 'Meeting agenda', false],
    ['Re: Meeting agenda', 'Meeting agenda', true],
    ['RE:  re: FWD:Meeting   agenda', 'Meeting agenda', true],
    ['Fw: hello (fwd)', 'hello', true],
    ['Re[2]: status', 'status', true],
    ['[PATCH] Re: [list] budget (fwd)', 'budget', true],
    ['[list] Weekly report', 'Weekly report', false],
    ['[only a blob]', '[only a blob]', false], // removing it would leave nothing (step 4)
    ['[fwd: Re: lunch]', 'lunch', true],
    ['Rec: not a reply', 'Rec: not a reply', false],
    ['  spaced\tout  ', 'spaced out', false],
  ];
  for (const [subject, base, reply] of cases) assert.deepEqual(baseSubject(subject), { base, replyOrForward: reply }, subject);
});

test('RFC 2047 encoded words: B and Q, adjacent words joined, charsets, unknown charsets fall back', () => {
  assert.equal(decodeEncodedWords('=?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?='), 'Grüße aus Berlin');
  assert.equal(decodeEncodedWords('=?ISO-8859-1?Q?Andr=E9?= Pirard'), 'André Pirard');
  assert.equal(decodeEncodedWords('=?UTF-8?Q?a?= =?UTF-8?Q?b?='), 'ab'); // RFC 2047 §8: white space between words dropped
  assert.equal(decodeEncodedWords('=?UTF-8?Q?Gr=C3?= =?UTF-8?Q?=BC=C3=9Fe?='), 'Grüße'); // a character split across words
  assert.equal(decodeEncodedWords('=?iso-8859-1?q?this_is_some?= text'), 'this is some text');
  assert.equal(decodeEncodedWords('plain =?x-unknown?Q?ok?='), 'plain ok');
});

test('RFC 5322 dates: own-zone day for SENT*, UTC instant for SORT, obsolete forms', () => {
  assert.deepEqual(parseSentDate('Tue, 02 Jan 2024 23:30:00 -0500'), { day: '2024-01-02', utcMs: Date.UTC(2024, 0, 3, 4, 30) });
  assert.deepEqual(parseSentDate('1 Mar 24 12:00 EST'), { day: '2024-03-01', utcMs: Date.UTC(2024, 2, 1, 17) });
  assert.deepEqual(parseSentDate('31 Dec 2000 16:01:33 -0800 (PST)'), { day: '2000-12-31', utcMs: Date.UTC(2001, 0, 1, 0, 1, 33) }); // RFC 5256 §2.2
  assert.equal(parseSentDate('not a date'), null);
});

test('first address: addr-mailbox and display name, quoted names with commas, groups, comments', () => {
  assert.deepEqual(firstAddress('"Smith, John" <jsmith@example.com>, b@x'), { mailbox: 'jsmith', addrSpec: 'jsmith@example.com', name: 'Smith, John' });
  assert.deepEqual(firstAddress('Team: a@x.org, b@y.org;'), { mailbox: 'a', addrSpec: 'a@x.org', name: '' });
  assert.deepEqual(firstAddress('bob@example.org (Bob)'), { mailbox: 'bob', addrSpec: 'bob@example.org', name: '' });
  assert.deepEqual(firstAddress('=?UTF-8?Q?J=C3=BCrgen?= <j@x.de>')?.name, 'Jürgen');
  assert.equal(firstAddress('undisclosed-recipients:;'), null);
});

test('message ids are normalized (RFC 5256 §3: quoting does not matter)', () => {
  assert.deepEqual(messageIds('<"01KF8JCEOCBS0045PS"@xxx.yyy.com> <01KF8JCEOCBS0045PS@xxx.yyy.com>'),
    ['01KF8JCEOCBS0045PS@xxx.yyy.com', '01KF8JCEOCBS0045PS@xxx.yyy.com']);
  assert.deepEqual(messageIds('<a@b> (comment <c@d>) junk'), ['a@b']);
});

/** A message for the threading algorithms: sequence number, headers, a sent date on 2024-01-<day>. */
function msg(seq: number, day: number, h: Record<string, string>): MessageData {
  const headers = new Map(Object.entries({ date: `${day} Jan 2024 10:00:00 +0000`, ...h }).map(([k, v]) => [k, [v]]));
  return { seq, uid: seq * 10, emailId: `e${seq}`, headers, meta: { id: `e${seq}`, blobId: '', threadId: '', mailboxIds: [], keywords: [], size: 0, receivedAt: '2024-01-01T00:00:00Z' } };
}

function threadLine(list: MessageData[], algo: 'REFERENCES' | 'ORDEREDSUBJECT', uid = false): string {
  const num = (m: MessageData) => (uid ? m.uid : m.seq);
  const threads = algo === 'REFERENCES' ? references(list, num) : orderedSubject(list, num);
  return new TextDecoder().decode(encodeResponse({ type: 'THREAD', threads })).trimEnd();
}

test('THREAD REFERENCES: two replies to a missing parent keep their dummy at the root', () => {
  const list = [
    msg(1, 1, { subject: 'Re: gone', 'message-id': '<1@x>', references: '<root@x>' }),
    msg(2, 2, { subject: 'Re: gone', 'message-id': '<2@x>', 'in-reply-to': '<root@x>' }),
    msg(3, 3, { subject: 'other', 'message-id': '<3@x>' }),
  ];
  // Step 3: the dummy <root@x> has two children and sits at the root: not promoted.
  assert.equal(threadLine(list, 'REFERENCES'), '* THREAD ((1)(2))(3)');
});

test('THREAD REFERENCES: a truncated References chain, a reference loop, and subject-only merging into a dummy', () => {
  const list = [
    msg(1, 1, { subject: 'plan', 'message-id': '<a@x>' }),
    msg(2, 2, { subject: 'Re: plan', 'message-id': '<b@x>', references: '<a@x>' }),
    // References lists b before a (wrong order): a already has no parent and b already has one, so nothing changes
    // but the last link: c is a child of a.
    msg(3, 3, { subject: 'Re: plan', 'message-id': '<c@x>', references: '<b@x> <a@x>' }),
    // d and e reference each other: the second link would make a loop and is not made.
    msg(4, 4, { subject: 'loop', 'message-id': '<d@x>', references: '<e@x>' }),
    msg(5, 5, { subject: 'loop', 'message-id': '<e@x>', references: '<d@x>' }),
    // Same base subject as 1 and not a reply, no references: 1 and 6 go under a new dummy (step 5C "otherwise").
    msg(6, 6, { subject: 'plan', 'message-id': '<f@x>' }),
  ];
  // 1A of message 3: b -> a would make a loop? a is not b's descendant... b already has a parent (a): kept.
  // 1B: c's parent is a. Message 4: d under dummy-or-message e (e's container); message 5: e under d would loop.
  assert.equal(threadLine(list, 'REFERENCES'), '* THREAD ((1 (2)(3))(6))(5 4)');
  assert.equal(threadLine(list, 'REFERENCES', true), '* THREAD ((10 (20)(30))(60))(50 40)');
});

test('THREAD ORDEREDSUBJECT: groups by base subject, children by sent date, threads by first date', () => {
  const list = [
    msg(1, 5, { subject: 'b' }), msg(2, 1, { subject: 'Re: b' }), msg(3, 3, { subject: 'a' }), msg(4, 2, { subject: 'c' }),
    msg(5, 9, { subject: 'Fwd: a' }), msg(6, 4, { subject: 'b' }),
  ];
  assert.equal(threadLine(list, 'ORDEREDSUBJECT'), '* THREAD (2 (6)(1))(4)(3 5)');
});

test('the search cache evicts least recently used entries beyond its byte budget', () => {
  const lru = new ByteLru<string>(10);
  lru.set('a', 'A', 4);
  lru.set('b', 'B', 4);
  assert.equal(lru.get('a'), 'A');
  lru.set('c', 'C', 4);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), 'A');
  lru.set('huge', 'H', 11);
  assert.equal(lru.get('huge'), undefined);
  assert.ok(lru.bytes <= 10);
});
