// Known answers for parseCommand, written from the RFC examples and grammar (not from our output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/protocol/parse.ts';
import type { Command, SearchKey } from '../../src/protocol/types.ts';

const enc = new TextEncoder();
const line = (s: string) => enc.encode(`${s}\r\n`);

function ok(input: string | Uint8Array, expected: Command, opts?: { utf8?: boolean }) {
  const r = parseCommand(typeof input === 'string' ? line(input) : input, opts);
  assert.deepEqual(r, { ok: true, command: expected }, typeof input === 'string' ? input : 'frame');
}

const flag = (f: string): SearchKey => ({ type: 'FLAG', flag: f });
const not = (key: SearchKey): SearchKey => ({ type: 'NOT', key });
const r = (from: number | '*', to: number | '*' = from) => ({ from, to });

test('RFC 9051 §6.1 / §6.2 any-state and not-authenticated commands', () => {
  ok('abcd CAPABILITY', { tag: 'abcd', type: 'CAPABILITY' });
  ok('a002 NOOP', { tag: 'a002', type: 'NOOP' });
  ok('A023 LOGOUT', { tag: 'A023', type: 'LOGOUT' });
  ok('a002 STARTTLS', { tag: 'a002', type: 'STARTTLS' });
  ok('a001 LOGIN SMITH SESAME', { tag: 'a001', type: 'LOGIN', username: 'SMITH', password: 'SESAME' });
  ok('b LOGIN "fred" "foo"', { tag: 'b', type: 'LOGIN', username: 'fred', password: 'foo' });
  // RFC 9051 §6.2.3 example with a literal password, and quoted-string escapes (§4.3).
  ok(enc.encode('A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n'),
    { tag: 'A001', type: 'LOGIN', username: 'FRED FOOBAR', password: 'fat man' });
  ok('x LOGIN "a\\"b" "c\\\\d"', { tag: 'x', type: 'LOGIN', username: 'a"b', password: 'c\\d' });
  // Non-synchronizing literal (RFC 7888).
  ok(enc.encode('x LOGIN {3+}\r\nbob pw\r\n'), { tag: 'x', type: 'LOGIN', username: 'bob', password: 'pw' });
});

test('RFC 9051 §6.2.2 AUTHENTICATE with SASL-IR (RFC 4959)', () => {
  ok('A001 AUTHENTICATE GSSAPI', { tag: 'A001', type: 'AUTHENTICATE', mechanism: 'GSSAPI' });
  ok('a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=',
    { tag: 'a004', type: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: 'dGVzdAB0ZXN0AHRlc3Q=' });
  ok('A01 AUTHENTICATE EXTERNAL =', { tag: 'A01', type: 'AUTHENTICATE', mechanism: 'EXTERNAL', initialResponse: '' });
  ok('a authenticate xoauth2', { tag: 'a', type: 'AUTHENTICATE', mechanism: 'XOAUTH2' });
});

test('RFC 5161 ENABLE, RFC 2971 ID, RFC 2342 NAMESPACE, RFC 2177 IDLE, RFC 3691 UNSELECT', () => {
  ok('t2 ENABLE CONDSTORE X-GOOD-IDEA', { tag: 't2', type: 'ENABLE', capabilities: ['CONDSTORE', 'X-GOOD-IDEA'] });
  ok('babc ENABLE IMAP4rev2', { tag: 'babc', type: 'ENABLE', capabilities: ['IMAP4REV2'] });
  ok('a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")', {
    tag: 'a023', type: 'ID',
    params: [['name', 'sodr'], ['version', '19.34'], ['vendor', 'Pink Floyd Music Limited']],
  });
  ok('a ID NIL', { tag: 'a', type: 'ID', params: null });
  ok('a ID ("os" NIL)', { tag: 'a', type: 'ID', params: [['os', null]] });
  ok('A001 NAMESPACE', { tag: 'A001', type: 'NAMESPACE' });
  ok('A002 IDLE', { tag: 'A002', type: 'IDLE' });
  ok('A342 UNSELECT', { tag: 'A342', type: 'UNSELECT' });
  ok('a CHECK', { tag: 'a', type: 'CHECK' });
  ok('A341 CLOSE', { tag: 'A341', type: 'CLOSE' });
  ok('a GETJMAPACCESS', { tag: 'a', type: 'GETJMAPACCESS' });
  ok('t1 COMPRESS DEFLATE', { tag: 't1', type: 'COMPRESS', mechanism: 'DEFLATE' });
});

test('RFC 9051 §6.3 SELECT / EXAMINE, with CONDSTORE and QRESYNC (RFC 7162)', () => {
  ok('a002 SELECT INBOX', { tag: 'a002', type: 'SELECT', mailbox: 'INBOX', condstore: false });
  ok('A142 SELECT inbox', { tag: 'A142', type: 'SELECT', mailbox: 'INBOX', condstore: false });
  ok('A143 SELECT Drafts', { tag: 'A143', type: 'SELECT', mailbox: 'Drafts', condstore: false });
  ok('A932 EXAMINE blurdybloop', { tag: 'A932', type: 'EXAMINE', mailbox: 'blurdybloop', condstore: false });
  ok('27 select "foo"', { tag: '27', type: 'SELECT', mailbox: 'foo', condstore: false });
  ok('A142 SELECT INBOX (CONDSTORE)', { tag: 'A142', type: 'SELECT', mailbox: 'INBOX', condstore: true });
  // RFC 7162 §3.2.5 example (modseq 20050715194045000 exceeds 2^53: clamped, see types.ts).
  ok('A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))', {
    tag: 'A02', type: 'SELECT', mailbox: 'INBOX', condstore: false,
    qresync: { uidValidity: 67890007, modseq: Number.MAX_SAFE_INTEGER, knownUids: [r(41), r(43, 211), r(214, 541)] },
  });
  ok('A142 SELECT INBOX (QRESYNC (3857529045 20010715194 1:198))', {
    tag: 'A142', type: 'SELECT', mailbox: 'INBOX', condstore: false,
    qresync: { uidValidity: 3857529045, modseq: 20010715194, knownUids: [r(1, 198)] },
  });
  ok('B04 SELECT INBOX (QRESYNC (67890007 90060115194045 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))', {
    tag: 'B04', type: 'SELECT', mailbox: 'INBOX', condstore: false,
    qresync: {
      uidValidity: 67890007, modseq: 90060115194045, knownUids: [r(1, 29997)],
      seqMatch: {
        seqs: [r(5000), r(7500), r(9000), r(9990, 9999)],
        uids: [15000, 22500, 27000, 29970, 29973, 29976, 29979, 29982, 29985, 29988, 29991, 29994, 29997].map((n) => r(n)),
      },
    },
  });
  ok('x EXAMINE a (QRESYNC (1 2) CONDSTORE)',
    { tag: 'x', type: 'EXAMINE', mailbox: 'a', condstore: true, qresync: { uidValidity: 1, modseq: 2 } });
});

test('RFC 9051 §6.3 mailbox management (CREATE with RFC 6154 USE, DELETE, RENAME, SUBSCRIBE, STATUS)', () => {
  ok('A003 CREATE owatagusiam/', { tag: 'A003', type: 'CREATE', mailbox: 'owatagusiam/' });
  ok('A002 CREATE "INBOX.Sent Mail"', { tag: 'A002', type: 'CREATE', mailbox: 'INBOX.Sent Mail' });
  ok('t2 CREATE MySpecial (USE (\\Drafts \\Sent))',
    { tag: 't2', type: 'CREATE', mailbox: 'MySpecial', specialUse: ['\\Drafts', '\\Sent'] });
  ok('A683 DELETE blurdybloop', { tag: 'A683', type: 'DELETE', mailbox: 'blurdybloop' });
  ok('A683 RENAME blurdybloop sarasoop', { tag: 'A683', type: 'RENAME', mailbox: 'blurdybloop', newName: 'sarasoop' });
  ok('Z433 RENAME INBOX old-mail', { tag: 'Z433', type: 'RENAME', mailbox: 'INBOX', newName: 'old-mail' });
  ok('A002 SUBSCRIBE #news.comp.mail.mime', { tag: 'A002', type: 'SUBSCRIBE', mailbox: '#news.comp.mail.mime' });
  ok('A002 UNSUBSCRIBE #news.comp.mail.mime', { tag: 'A002', type: 'UNSUBSCRIBE', mailbox: '#news.comp.mail.mime' });
  ok('A042 STATUS blurdybloop (UIDNEXT MESSAGES)',
    { tag: 'A042', type: 'STATUS', mailbox: 'blurdybloop', items: ['UIDNEXT', 'MESSAGES'] });
  ok('A042 STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)',
    { tag: 'A042', type: 'STATUS', mailbox: 'blurdybloop', items: ['UIDNEXT', 'MESSAGES', 'HIGHESTMODSEQ'] });
  ok('6 status foo (mailboxid)', { tag: '6', type: 'STATUS', mailbox: 'foo', items: ['MAILBOXID'] });
  ok('S0003 STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)',
    { tag: 'S0003', type: 'STATUS', mailbox: 'INBOX', items: ['MESSAGES', 'DELETED', 'DELETED-STORAGE'] });
  ok('s STATUS x (SIZE UNSEEN UIDVALIDITY RECENT APPENDLIMIT)',
    { tag: 's', type: 'STATUS', mailbox: 'x', items: ['SIZE', 'UNSEEN', 'UIDVALIDITY', 'RECENT', 'APPENDLIMIT'] });
});

const noReturn = { subscribed: false, children: false, specialUse: false };

test('RFC 9051 §6.3.9 LIST and RFC 5258 §5 LIST-EXTENDED examples', () => {
  const list = (tag: string, extra: Partial<Extract<Command, { type: 'LIST' }>>): Command => ({
    tag, type: 'LIST', reference: '', patterns: ['*'], selectOptions: [], returnOptions: noReturn, extended: false,
    ...extra,
  });
  ok('A682 LIST "" *', list('A682', {}));
  ok('A101 LIST "" ""', list('A101', { patterns: [''] }));
  ok('A102 LIST #news.comp.mail.misc ""', list('A102', { reference: '#news.comp.mail.misc', patterns: [''] }));
  ok('A202 LIST ~/Mail/ %', list('A202', { reference: '~/Mail/', patterns: ['%'] }));
  ok('A01 LIST "" "*"', list('A01', {}));
  ok('A02 LIST (SUBSCRIBED) "" "*"', list('A02', { selectOptions: ['SUBSCRIBED'], extended: true }));
  ok('A03 LIST () "" "%" RETURN (CHILDREN)',
    list('A03', { patterns: ['%'], returnOptions: { ...noReturn, children: true }, extended: true }));
  ok('A04 LIST (REMOTE) "" "%" RETURN (CHILDREN)', list('A04', {
    selectOptions: ['REMOTE'], patterns: ['%'], returnOptions: { ...noReturn, children: true }, extended: true,
  }));
  ok('A05 LIST (REMOTE SUBSCRIBED) "" "*"', list('A05', { selectOptions: ['REMOTE', 'SUBSCRIBED'], extended: true }));
  ok('A06 LIST (REMOTE) "" "*" RETURN (SUBSCRIBED)', list('A06', {
    selectOptions: ['REMOTE'], returnOptions: { ...noReturn, subscribed: true }, extended: true,
  }));
  ok('BBB LIST "" ("INBOX" "Drafts" "Sent/%")', list('BBB', { patterns: ['INBOX', 'Drafts', 'Sent/%'], extended: true }));
  ok('C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)', list('C04', {
    selectOptions: ['SUBSCRIBED', 'RECURSIVEMATCH'], patterns: ['%'], returnOptions: { ...noReturn, children: true },
    extended: true,
  }));
  ok('a3 LIST (SUBSCRIBED RECURSIVEMATCH) "" foo RETURN (CHILDREN)', list('a3', {
    selectOptions: ['SUBSCRIBED', 'RECURSIVEMATCH'], patterns: ['foo'], returnOptions: { ...noReturn, children: true },
    extended: true,
  }));
  ok('a3.1 LIST "" (% music/rock)', list('a3.1', { patterns: ['%', 'music/rock'], extended: true }));
  // RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE.
  ok('A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))', list('A01', {
    patterns: ['%'], returnOptions: { ...noReturn, status: ['MESSAGES', 'UNSEEN'] }, extended: true,
  }));
  ok('t2 LIST "" "%" RETURN (SPECIAL-USE)',
    list('t2', { patterns: ['%'], returnOptions: { ...noReturn, specialUse: true }, extended: true }));
  ok('t3 LIST (SPECIAL-USE) "" "*"', list('t3', { selectOptions: ['SPECIAL-USE'], extended: true }));
  ok('11 list "" "*" return (status (mailboxid))',
    list('11', { returnOptions: { ...noReturn, status: ['MAILBOXID'] }, extended: true }));
  ok('A002 LSUB "#news." "comp.mail.*"', { tag: 'A002', type: 'LSUB', reference: '#news.', pattern: 'comp.mail.*' });
});

test('RFC 9051 §6.3.12 APPEND, MULTIAPPEND (RFC 3502), literal8 (RFC 3516), UTF8 (RFC 6855)', () => {
  const msg = 'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n';
  const bytes = enc.encode(msg);
  ok(enc.encode(`A003 APPEND saved-messages (\\Seen) {${bytes.length}}\r\n${msg}\r\n`), {
    tag: 'A003', type: 'APPEND', mailbox: 'saved-messages',
    messages: [{ flags: ['\\Seen'], message: bytes, binary: false, utf8: false }],
  });
  ok(enc.encode(`5 append inbox "20-Mar-2018 03:07:37 +1100" {${bytes.length}+}\r\n${msg}\r\n`), {
    tag: '5', type: 'APPEND', mailbox: 'INBOX',
    messages: [{ flags: [], date: new Date('2018-03-19T16:07:37Z'), message: bytes, binary: false, utf8: false }],
  });
  ok(enc.encode('A003 APPEND x " 7-Jul-1996 02:44:25 -0700" {1}\r\na (\\Seen \\draft) {2}\r\nbc ~{3}\r\nd\0e\r\n'), {
    tag: 'A003', type: 'APPEND', mailbox: 'x',
    messages: [
      { flags: [], date: new Date('1996-07-07T09:44:25Z'), message: enc.encode('a'), binary: false, utf8: false },
      { flags: ['\\Seen', '\\Draft'], message: enc.encode('bc'), binary: false, utf8: false },
      { flags: [], message: enc.encode('d\0e'), binary: true, utf8: false },
    ],
  });
  ok(enc.encode('A APPEND x UTF8 (~{2}\r\nhi)\r\n'), {
    tag: 'A', type: 'APPEND', mailbox: 'x', messages: [{ flags: [], message: enc.encode('hi'), binary: true, utf8: true }],
  }, { utf8: true });
});

test('RFC 9051 §6.4 selected-state commands: EXPUNGE, COPY, MOVE, UID EXPUNGE (RFC 4315), STORE', () => {
  ok('A202 EXPUNGE', { tag: 'A202', type: 'EXPUNGE', uid: false });
  ok('A003 UID EXPUNGE 3000:3002', { tag: 'A003', type: 'EXPUNGE', uid: true, sequence: [r(3000, 3002)] });
  ok('A003 COPY 2:4 MEETING', { tag: 'A003', type: 'COPY', uid: false, sequence: [r(2, 4)], mailbox: 'MEETING' });
  ok('A005 UID COPY 305:310 meeting', { tag: 'A005', type: 'COPY', uid: true, sequence: [r(305, 310)], mailbox: 'meeting' });
  ok('E283 COPY $ "Other Messages"', { tag: 'E283', type: 'COPY', uid: false, sequence: '$', mailbox: 'Other Messages' });
  ok('a UID MOVE 42:69 foo', { tag: 'a', type: 'MOVE', uid: true, sequence: [r(42, 69)], mailbox: 'foo' });
  ok('23 move 2 foo', { tag: '23', type: 'MOVE', uid: false, sequence: [r(2)], mailbox: 'foo' });
  ok('A003 STORE 2:4 +FLAGS (\\Deleted)', {
    tag: 'A003', type: 'STORE', uid: false, sequence: [r(2, 4)], action: 'add', silent: false, flags: ['\\Deleted'],
  });
  ok('F284 STORE $ +FLAGS.Silent (\\Deleted)',
    { tag: 'F284', type: 'STORE', uid: false, sequence: '$', action: 'add', silent: true, flags: ['\\Deleted'] });
  ok('a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)', {
    tag: 'a103', type: 'STORE', uid: true, sequence: [r(6), r(4), r(8)], action: 'add', silent: true,
    flags: ['\\Deleted'], unchangedSince: 12121230045,
  });
  ok('A330 STORE 7 -FLAGS.SILENT (\\Answered \\Seen)',
    { tag: 'A330', type: 'STORE', uid: false, sequence: [r(7)], action: 'remove', silent: true, flags: ['\\Answered', '\\Seen'] });
  ok('A150 STORE 1:2 (UNCHANGEDSINCE 96) +FLAGS.SILENT \\Seen', {
    tag: 'A150', type: 'STORE', uid: false, sequence: [r(1, 2)], action: 'add', silent: true, flags: ['\\Seen'],
    unchangedSince: 96,
  });
  ok('m STORE 42 FLAGS f1 f2 $Forwarded', {
    tag: 'm', type: 'STORE', uid: false, sequence: [r(42)], action: 'replace', silent: false, flags: ['f1', 'f2', '$Forwarded'],
  });
  ok('B001 STORE 1:7 (UNCHANGEDSINCE 320172338) +FLAGS (\\SEEN)', {
    tag: 'B001', type: 'STORE', uid: false, sequence: [r(1, 7)], action: 'add', silent: false, flags: ['\\Seen'],
    unchangedSince: 320172338,
  });
  ok('x STORE 5:3,*,7:* FLAGS ()',
    { tag: 'x', type: 'STORE', uid: false, sequence: [r(5, 3), r('*'), r(7, '*')], action: 'replace', silent: false, flags: [] });
});

test('RFC 9051 §6.4.5 FETCH items, macros and modifiers', () => {
  const fetch = (tag: string, sequence: Extract<Command, { type: 'FETCH' }>['sequence'], items: Extract<Command, { type: 'FETCH' }>['items'], extra = {}): Command =>
    ({ tag, type: 'FETCH', uid: false, sequence, items, vanished: false, ...extra });
  ok('A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])', fetch('A654', [r(2, 4)], [
    { type: 'FLAGS' },
    { type: 'BODY', peek: false, section: { part: [], kind: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] } },
  ]));
  ok('A003 FETCH 4 ALL', fetch('A003', [r(4)], [
    { type: 'FLAGS' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }, { type: 'ENVELOPE' },
  ]));
  ok('a FETCH 1 fast', fetch('a', [r(1)], [{ type: 'FLAGS' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }]));
  ok('a FETCH 1 FULL', fetch('a', [r(1)], [
    { type: 'FLAGS' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }, { type: 'ENVELOPE' },
    { type: 'BODYSTRUCTURE', extended: false },
  ]));
  ok('A283 FETCH $ (UID INTERNALDATE FLAGS BODY.PEEK[HEADER])', fetch('A283', '$', [
    { type: 'UID' }, { type: 'INTERNALDATE' }, { type: 'FLAGS' },
    { type: 'BODY', peek: true, section: { part: [], kind: 'HEADER' } },
  ]));
  ok('A999 UID FETCH 4827313:4828442 FLAGS', { ...fetch('A999', [r(4827313, 4828442)], [{ type: 'FLAGS' }]), uid: true } as Command);
  ok('a FETCH 1 (BODY[] BODY[1.2.3] BODY[1.2.HEADER] BODY[2.MIME] BODY[3.TEXT] BODY.PEEK[TEXT]<0.2048> BODY[HEADER.FIELDS.NOT (Received)])',
    fetch('a', [r(1)], [
      { type: 'BODY', peek: false, section: { part: [] } },
      { type: 'BODY', peek: false, section: { part: [1, 2, 3] } },
      { type: 'BODY', peek: false, section: { part: [1, 2], kind: 'HEADER' } },
      { type: 'BODY', peek: false, section: { part: [2], kind: 'MIME' } },
      { type: 'BODY', peek: false, section: { part: [3], kind: 'TEXT' } },
      { type: 'BODY', peek: true, section: { part: [], kind: 'TEXT' }, partial: { offset: 0, length: 2048 } },
      { type: 'BODY', peek: false, section: { part: [], kind: 'HEADER.FIELDS.NOT', fields: ['Received'] } },
    ]));
  ok('a FETCH 1:* (RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY INTERNALDATE UID)',
    fetch('a', [r(1, '*')], [
      { type: 'RFC822' }, { type: 'RFC822.HEADER' }, { type: 'RFC822.TEXT' }, { type: 'RFC822.SIZE' }, { type: 'ENVELOPE' },
      { type: 'BODYSTRUCTURE', extended: true }, { type: 'BODYSTRUCTURE', extended: false }, { type: 'INTERNALDATE' },
      { type: 'UID' },
    ]));
  // RFC 3516 BINARY, RFC 8970 PREVIEW, RFC 8474 EMAILID/THREADID, RFC 7162 MODSEQ, RFC 8514 SAVEDATE.
  ok('a FETCH 1 (BINARY[1] BINARY.PEEK[1.2]<10.20> BINARY.SIZE[2] BINARY[])', fetch('a', [r(1)], [
    { type: 'BINARY', peek: false, part: [1] },
    { type: 'BINARY', peek: true, part: [1, 2], partial: { offset: 10, length: 20 } },
    { type: 'BINARY.SIZE', part: [2] },
    { type: 'BINARY', peek: false, part: [] },
  ]));
  ok('B1 FETCH 1:4 (ENVELOPE PREVIEW (LAZY))',
    fetch('B1', [r(1, 4)], [{ type: 'ENVELOPE' }, { type: 'PREVIEW', lazy: true }]));
  ok('A2 FETCH 1 (RFC822.SIZE PREVIEW)', fetch('A2', [r(1)], [{ type: 'RFC822.SIZE' }, { type: 'PREVIEW', lazy: false }]));
  ok('22 fetch 1:* (emailid threadid)', fetch('22', [r(1, '*')], [{ type: 'EMAILID' }, { type: 'THREADID' }]));
  ok('a FETCH 1:3 (MODSEQ)', fetch('a', [r(1, 3)], [{ type: 'MODSEQ' }]));
  ok('a FETCH 1 SAVEDATE', fetch('a', [r(1)], [{ type: 'SAVEDATE' }]));
  ok('s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)',
    { ...fetch('s100', [r(1, '*')], [{ type: 'FLAGS' }], { changedSince: 12345 }), uid: true } as Command);
  ok('s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)',
    { ...fetch('s100', [r(300, 500)], [{ type: 'FLAGS' }], { changedSince: 12345, vanished: true }), uid: true } as Command);
});

test('RFC 9051 §6.4.4 SEARCH examples and ESEARCH (RFC 4731) / SEARCHRES (RFC 5182)', () => {
  const search = (tag: string, criteria: SearchKey[], extra = {}): Command => ({ tag, type: 'SEARCH', uid: false, criteria, ...extra });
  const notFromSmith = not({ type: 'HEADER', field: 'From', value: 'Smith' });
  ok('A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', search('A282', [
    flag('\\Flagged'), { type: 'DATE', field: 'INTERNAL', op: 'SINCE', date: '1994-02-01' }, notFromSmith,
  ], { returnOptions: ['MIN', 'COUNT'] }));
  ok('A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', search('A283', [
    flag('\\Flagged'), { type: 'DATE', field: 'INTERNAL', op: 'SINCE', date: '1994-02-01' }, notFromSmith,
  ], { returnOptions: [] }));
  ok('A284 SEARCH TEXT "string not in mailbox"', search('A284', [{ type: 'TEXT', value: 'string not in mailbox' }]));
  // RFC 9051 §6.4.4: the literal carries UTF-8 text.
  const xyz = enc.encode('XXXXXXXXXX\u00e4');
  ok(new Uint8Array([...enc.encode(`A285 SEARCH CHARSET UTF-8 TEXT {${xyz.length}}\r\n`), ...xyz, 13, 10]),
    search('A285', [{ type: 'TEXT', value: 'XXXXXXXXXX\u00e4' }], { charset: 'UTF-8' }));
  ok('A285 UID SEARCH RETURN (MIN MAX) 1:5000',
    { ...search('A285', [{ type: 'SEQUENCE', set: [r(1, 5000)] }], { returnOptions: ['MIN', 'MAX'] }), uid: true } as Command);
  ok('A301 UID SEARCH UID $ SMALLER 4096', {
    ...search('A301', [{ type: 'UID', set: '$' }, { type: 'SIZE', op: 'SMALLER', size: 4096 }]), uid: true,
  } as Command);
  ok(enc.encode('P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {8+}\r\nmy text\u0021\r\n'), search('P283', [
    { type: 'AND', keys: [{ type: 'OR', left: { type: 'SEQUENCE', set: '$' }, right: { type: 'SEQUENCE', set: [r(1), r(3000, 3021)] } }] },
    { type: 'TEXT', value: 'my text!' },
  ], { charset: 'UTF-8' }));
  ok('F282 SEARCH RETURN (SAVE) KEYWORD $Junk', search('F282', [flag('$Junk')], { returnOptions: ['SAVE'] }));
  ok('C286 SEARCH RETURN (MAX SAVE MIN COUNT) SINCE 12-Feb-2006 NOT FROM "Smith"', search('C286', [
    { type: 'DATE', field: 'INTERNAL', op: 'SINCE', date: '2006-02-12' }, notFromSmith,
  ], { returnOptions: ['MAX', 'SAVE', 'MIN', 'COUNT'] }));
  // RFC 7162 §3.1.5 and RFC 4731 examples with MODSEQ.
  ok('a SEARCH MODSEQ "/flags/\\\\draft" all 620162338',
    search('a', [{ type: 'MODSEQ', modseq: 620162338, entry: { name: '/flags/\\draft', entryType: 'all' } }]));
  ok('t SEARCH OR NOT MODSEQ 720162338 LARGER 50000', search('t', [
    { type: 'OR', left: not({ type: 'MODSEQ', modseq: 720162338 }), right: { type: 'SIZE', op: 'LARGER', size: 50000 } },
  ]));
  ok('27 search emailid M6d99ac3275bb4e', search('27', [{ type: 'EMAILID', id: 'M6d99ac3275bb4e' }]));
  ok('28 search threadid T64b478a75b7ea9', search('28', [{ type: 'THREADID', id: 'T64b478a75b7ea9' }]));
});

test('RFC 3501 / RFC 9051 §6.4.4: every search key', () => {
  const one = (keys: string, expected: SearchKey[]) =>
    ok(`k SEARCH ${keys}`, { tag: 'k', type: 'SEARCH', uid: false, criteria: expected });
  one('ALL', [{ type: 'ALL' }]);
  one('ANSWERED DELETED DRAFT FLAGGED SEEN RECENT',
    ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen', '\\Recent'].map(flag));
  one('UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN OLD',
    ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen', '\\Recent'].map((f) => not(flag(f))));
  one('NEW', [{ type: 'AND', keys: [flag('\\Recent'), not(flag('\\Seen'))] }]);
  one('KEYWORD $Forwarded UNKEYWORD $Junk', [flag('$Forwarded'), not(flag('$Junk'))]);
  one('BCC a CC b FROM c SUBJECT "d e" TO f', [
    { type: 'HEADER', field: 'Bcc', value: 'a' }, { type: 'HEADER', field: 'Cc', value: 'b' },
    { type: 'HEADER', field: 'From', value: 'c' }, { type: 'HEADER', field: 'Subject', value: 'd e' },
    { type: 'HEADER', field: 'To', value: 'f' },
  ]);
  one('HEADER X-Mailer "" BODY hello', [{ type: 'HEADER', field: 'X-Mailer', value: '' }, { type: 'BODY', value: 'hello' }]);
  one('BEFORE 1-Feb-1994 ON "29-Feb-2000" SINCE 31-Dec-1999', [
    { type: 'DATE', field: 'INTERNAL', op: 'BEFORE', date: '1994-02-01' },
    { type: 'DATE', field: 'INTERNAL', op: 'ON', date: '2000-02-29' },
    { type: 'DATE', field: 'INTERNAL', op: 'SINCE', date: '1999-12-31' },
  ]);
  one('SENTBEFORE 1-jan-2020 SENTON 02-Jan-2020 SENTSINCE 3-JAN-2020', [
    { type: 'DATE', field: 'SENT', op: 'BEFORE', date: '2020-01-01' },
    { type: 'DATE', field: 'SENT', op: 'ON', date: '2020-01-02' },
    { type: 'DATE', field: 'SENT', op: 'SINCE', date: '2020-01-03' },
  ]);
  one('SAVEDBEFORE 1-Jan-2020 SAVEDATESUPPORTED', [
    { type: 'DATE', field: 'SAVED', op: 'BEFORE', date: '2020-01-01' }, { type: 'SAVEDATESUPPORTED' },
  ]);
  one('LARGER 100 SMALLER 5000000000', [{ type: 'SIZE', op: 'LARGER', size: 100 }, { type: 'SIZE', op: 'SMALLER', size: 5000000000 }]);
  one('UID 1:*,5 2,4:6 *', [
    { type: 'UID', set: [r(1, '*'), r(5)] }, { type: 'SEQUENCE', set: [r(2), r(4, 6)] }, { type: 'SEQUENCE', set: [r('*')] },
  ]);
  one('OR (SEEN FLAGGED) NOT (DRAFT)', [{
    type: 'OR', left: { type: 'AND', keys: [flag('\\Seen'), flag('\\Flagged')] },
    right: not({ type: 'AND', keys: [flag('\\Draft')] }),
  }]);
  one('OLDER 3600 YOUNGER 60', [{ type: 'OLDER', seconds: 3600 }, { type: 'YOUNGER', seconds: 60 }]);
  one('all seen', [{ type: 'ALL' }, flag('\\Seen')]);
});

test('RFC 5256 SORT / THREAD and their UID forms', () => {
  ok('A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL', {
    tag: 'A283', type: 'SORT', uid: false, charset: 'UTF-8', criteria: [{ type: 'ALL' }],
    sortCriteria: [{ key: 'SUBJECT', reverse: false }, { key: 'DATE', reverse: true }],
  });
  ok('A284 UID SORT (SUBJECT) US-ASCII TEXT "not in mailbox"', {
    tag: 'A284', type: 'SORT', uid: true, charset: 'US-ASCII', criteria: [{ type: 'TEXT', value: 'not in mailbox' }],
    sortCriteria: [{ key: 'SUBJECT', reverse: false }],
  });
  ok('A284 THREAD ORDEREDSUBJECT US-ASCII TEXT "gewp"', {
    tag: 'A284', type: 'THREAD', uid: false, algorithm: 'ORDEREDSUBJECT', charset: 'US-ASCII',
    criteria: [{ type: 'TEXT', value: 'gewp' }],
  });
  ok('A285 UID THREAD REFERENCES UTF-8 SINCE 5-MAR-2000', {
    tag: 'A285', type: 'THREAD', uid: true, algorithm: 'REFERENCES', charset: 'UTF-8',
    criteria: [{ type: 'DATE', field: 'INTERNAL', op: 'SINCE', date: '2000-03-05' }],
  });
});

test('RFC 9208 QUOTA commands', () => {
  ok('G0001 GETQUOTA "!partition/sda4"', { tag: 'G0001', type: 'GETQUOTA', root: '!partition/sda4' });
  ok('G0002 GETQUOTAROOT INBOX', { tag: 'G0002', type: 'GETQUOTAROOT', mailbox: 'INBOX' });
  ok('S0001 SETQUOTA "#user/alice" (STORAGE 510)',
    { tag: 'S0001', type: 'SETQUOTA', root: '#user/alice', limits: [{ resource: 'STORAGE', limit: 510 }] });
  ok('S SETQUOTA "" ()', { tag: 'S', type: 'SETQUOTA', root: '', limits: [] });
});

test('lexical details: tags, case, bare LF, INBOX, UTF-8 quoted strings', () => {
  ok('a.b]c noop', { tag: 'a.b]c', type: 'NOOP' });
  ok(enc.encode('a1 NOOP\n'), { tag: 'a1', type: 'NOOP' });
  ok(enc.encode('a1 NOOP'), { tag: 'a1', type: 'NOOP' });
  ok('a select InBoX', { tag: 'a', type: 'SELECT', mailbox: 'INBOX', condstore: false });
  ok('a select "INBOX/sub"', { tag: 'a', type: 'SELECT', mailbox: 'INBOX/sub', condstore: false });
  ok('a select "Entw&APw-rfe"', { tag: 'a', type: 'SELECT', mailbox: 'Entw&APw-rfe', condstore: false });
  // RFC 9051 §9 QUOTED-CHAR allows UTF8-2/3/4.
  ok('a select "Entwürfe"', { tag: 'a', type: 'SELECT', mailbox: 'Entwürfe', condstore: false });
});
