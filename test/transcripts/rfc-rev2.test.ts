/**
 * Golden C:/S: transcripts of IMAP4rev2 (RFC 9051) and UTF8=ACCEPT (RFC 6855), from the RFCs' own examples. The
 * server advertises IMAP4rev1 and IMAP4rev2, so each RFC 9051 example runs after `ENABLE IMAP4rev2` (RFC 9051
 * Appendix A). Adapted to the mailbox of test/search/mailbox.ts and the embedded store's standard mailboxes:
 * - the commands and the response shapes are the RFC's; the numbers are those this mailbox must give (facts in
 *   test/transcripts/rfc-search.test.ts: FLAGGED = 3, 10; From "Smith" = 1, 10; UNSEEN = 3..9; UIDs 1..10;
 *   TEXT "Grüße" = 3);
 * - the untagged responses before a tagged line are compared as a set, since RFC 9051 §6.3.2 says "the order of
 *   individual responses is not important" (and no other untagged line may come: that is how the absence of
 *   `* n RECENT` is checked); LIST attributes and STATUS items are compared as sets too;
 * - this server always sends \HasChildren / \HasNoChildren and the special-use attribute of a JMAP role.
 * `…` in an S: line matches any text.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { jmapCreate } from '../helpers/mailbox-jmap.ts';
import { importAll, SIZES } from '../search/mailbox.ts';

/** Sort LIST attributes and STATUS items, so their order does not matter (RFC 9051 §7.3.1, §7.2.4). */
function normalize(line: string): string {
  const list = /^(\* LIST \()([^)]*)(\).*)$/.exec(line);
  if (list) return list[1] + list[2]!.split(' ').filter(Boolean).sort().join(' ') + list[3];
  const status = /^(\* STATUS .* \()([^)]*)\)$/.exec(line);
  if (status) {
    const words = status[2]!.split(' ');
    const pairs = words.flatMap((w, i) => (i % 2 === 0 ? [`${w} ${words[i + 1]}`] : [])).sort();
    return `${status[1]}${pairs.join(' ')})`;
  }
  return line;
}

function pattern(expected: string): RegExp {
  return new RegExp('^' + normalize(expected).split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?') + '$', 'u');
}

/**
 * Replay a transcript. C: lines are sent as UTF-8. S: lines are collected until a tagged or `+` line; then as many
 * lines are read, the last must match that line, and the untagged ones must match the expected ones one to one
 * in any order.
 */
export async function replayRev2(c: RawClient, transcript: string): Promise<void> {
  let expected: string[] = [];
  for (const line of transcript.trim().split('\n').map((l) => l.trim())) {
    if (line.startsWith('C: ')) c.write(Buffer.from(line.slice(3) + '\r\n', 'utf8'));
    else if (line.startsWith('S: ')) {
      expected.push(line.slice(3));
      if (line.startsWith('S: * ')) continue;
      const got: string[] = [];
      for (let i = 0; i < expected.length; i++) got.push(Buffer.from(await c.line(), 'latin1').toString('utf8')); // octets -> UTF-8
      const last = expected.pop()!;
      assert.match(got.pop()!, pattern(last), `expected ${last}`);
      const left = got.map(normalize);
      for (const want of expected) {
        const at = left.findIndex((g) => pattern(want).test(g));
        assert.notEqual(at, -1, `expected ${want} among ${JSON.stringify(got)}`);
        left.splice(at, 1);
      }
      expected = [];
    }
  }
}

async function rev2Client(bed: TestBed, enable = 'IMAP4rev2'): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  const enabled = await c.command('e', `ENABLE ${enable}`);
  assert.equal(enabled[0], `* ENABLED ${enable}`);
  return c;
}

describe('RFC 9051 examples after ENABLE IMAP4rev2', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
    importAll(bed);
    await jmapCreate(bed, ['blurdybloop']);
  });
  after(() => bed.close());

  const run = async (transcript: string, enable?: string): Promise<void> => {
    const c = await rev2Client(bed, enable);
    try {
      await replayRev2(c, transcript);
    } finally {
      c.close();
    }
  };

  test('RFC 9051 §6.3.1: ENABLE IMAP4rev2 answers ENABLED IMAP4rev2; CAPABILITY does not change', async () => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    try {
      await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
      await replayRev2(c, String.raw`
        C: t1 CAPABILITY
        S: * CAPABILITY IMAP4rev1 IMAP4rev2 …
        S: t1 OK …
        C: t2 ENABLE X-GOOD-IDEA IMAP4rev2
        S: * ENABLED IMAP4rev2
        S: t2 OK …
        C: t3 CAPABILITY
        S: * CAPABILITY IMAP4rev1 IMAP4rev2 …
        S: t3 OK …
        C: t4 ENABLE IMAP4rev2
        S: * ENABLED
        S: t4 OK …
      `);
    } finally {
      c.close();
    }
  });

  test('RFC 9051 §6.3.2 SELECT: LIST instead of RECENT, and [CLOSED] when another mailbox was selected', () => run(String.raw`
    C: A142 SELECT INBOX
    S: * 10 EXISTS
    S: * OK [UIDVALIDITY …] UIDs valid
    S: * OK [UIDNEXT 11] Predicted next UID
    S: * OK [MAILBOXID (…)] …
    S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
    S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] …
    S: * LIST (\HasNoChildren) "/" INBOX
    S: A142 OK [READ-WRITE] SELECT completed
    C: A143 SELECT Drafts
    S: * OK [CLOSED] …
    S: * 0 EXISTS
    S: * OK [UIDVALIDITY …] UIDs valid
    S: * OK [UIDNEXT 1] Predicted next UID
    S: * OK [MAILBOXID (…)] …
    S: * LIST (\HasNoChildren \Drafts) "/" Drafts
    S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
    S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] …
    S: A143 OK [READ-WRITE] SELECT completed
  `));

  test('RFC 9051 §6.3.3 EXAMINE: LIST, PERMANENTFLAGS (), [READ-ONLY]; a failed SELECT still closes', () => run(String.raw`
    C: A932 EXAMINE blurdybloop
    S: * 0 EXISTS
    S: * OK [UIDVALIDITY …] UIDs valid
    S: * OK [UIDNEXT 1] Predicted next UID
    S: * OK [MAILBOXID (…)] …
    S: * LIST (\HasNoChildren) "/" blurdybloop
    S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
    S: * OK [PERMANENTFLAGS ()] No permanent flags permitted
    S: A932 OK [READ-ONLY] EXAMINE completed
    C: A933 SELECT nosuchbox
    S: * OK [CLOSED] …
    S: A933 NO [NONEXISTENT] …
    C: A934 FETCH 1 UID
    S: A934 BAD …
  `));

  test('RFC 9051 §6.4.4 SEARCH examples: ESEARCH answers, with or without RETURN', () => run(String.raw`
    C: s SELECT INBOX
    S: * 10 EXISTS
    S: * OK [UIDVALIDITY …] …
    S: * OK [UIDNEXT 11] …
    S: * OK [MAILBOXID (…)] …
    S: * FLAGS …
    S: * OK [PERMANENTFLAGS …] …
    S: * LIST (\HasNoChildren) "/" INBOX
    S: s OK [READ-WRITE] …
    C: A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    S: * ESEARCH (TAG "A282") MIN 3 COUNT 1
    S: A282 OK …
    C: A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    S: * ESEARCH (TAG "A283") ALL 3
    S: A283 OK …
    C: A284 SEARCH TEXT "string not in mailbox"
    S: * ESEARCH (TAG "A284")
    S: A284 OK …
    C: A285 SEARCH CHARSET UTF-8 TEXT {7}
    S: + …
    C: Grüße
    S: * ESEARCH (TAG "A285") ALL 3
    S: A285 OK …
    C: A286 SEARCH RETURN (MIN) UNSEEN
    S: * ESEARCH (TAG "A286") MIN 3
    S: A286 OK …
    C: A287 UID SEARCH RETURN (MIN MAX) 1:5000
    S: * ESEARCH (TAG "A287") UID MIN 1 MAX 10
    S: A287 OK …
    C: A288 SEARCH RETURN (COUNT) DELETED
    S: * ESEARCH (TAG "A288") COUNT 0
    S: A288 OK …
    C: A289 UID SEARCH UNSEEN
    S: * ESEARCH (TAG "A289") UID ALL 3:9
    S: A289 OK …
    C: A290 SEARCH RETURN (SAVE) FLAGGED
    S: A290 OK …
    C: A291 SEARCH $
    S: * ESEARCH (TAG "A291") ALL 3,10
    S: A291 OK …
  `));

  test('RFC 9051 §6.3.11 STATUS example and the rev2 items DELETED and SIZE', () => run(String.raw`
    C: A042 STATUS blurdybloop (UIDNEXT MESSAGES)
    S: * STATUS blurdybloop (MESSAGES 0 UIDNEXT 1)
    S: A042 OK …
    C: A043 STATUS INBOX (MESSAGES UNSEEN DELETED SIZE)
    S: * STATUS INBOX (MESSAGES 10 UNSEEN 7 DELETED 0 SIZE ${SIZES.reduce((a, b) => a + b, 0)})
    S: A043 OK …
  `));

  test('RFC 9051 §6.3.9 LIST examples: empty pattern, % with CHILDREN, SUBSCRIBED', () => run(String.raw`
    C: A101 LIST "" ""
    S: * LIST (\Noselect) "/" ""
    S: A101 OK …
    C: A03 LIST () "" "b%" RETURN (CHILDREN)
    S: * LIST (\HasNoChildren) "/" blurdybloop
    S: A03 OK …
  `));
});

describe('UTF-8 mailbox names (RFC 9051 §5.1 after ENABLE IMAP4rev2, RFC 6855 §3 after ENABLE UTF8=ACCEPT)', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
    await jmapCreate(bed, ['Küche', 'Küche/日本語']);
  });
  after(() => bed.close());

  for (const enable of ['IMAP4rev2', 'UTF8=ACCEPT']) {
    test(`after ENABLE ${enable}: LIST, SELECT, STATUS and CREATE use UTF-8 names, not modified UTF-7`, async () => {
      const c = await rev2Client(bed, enable);
      try {
        await replayRev2(c, String.raw`
          C: a1 LIST "" "K*"
          S: * LIST (\HasChildren) "/" "Küche"
          S: * LIST (\HasNoChildren) "/" "Küche/日本語"
          S: a1 OK …
          C: a2 STATUS "Küche/日本語" (MESSAGES)
          S: * STATUS "Küche/日本語" (MESSAGES 0)
          S: a2 OK …
          C: a3 EXAMINE "Küche"
          ${enable === 'IMAP4rev2' ? 'S: * LIST (\\HasChildren) "/" "Küche"' : 'S: * 0 RECENT'}
          S: * 0 EXISTS
          S: * FLAGS …
          S: * OK [PERMANENTFLAGS ()] …
          S: * OK [UIDVALIDITY …] …
          S: * OK [UIDNEXT 1] …
          S: * OK [MAILBOXID (…)] …
          S: a3 OK [READ-ONLY] …
          C: a4 STATUS "K&APw-che" (MESSAGES)
          S: a4 NO [NONEXISTENT] …
          C: a5 CREATE "Ångström-${enable}"
          S: a5 OK …
          C: a6 LIST "" "Ångström-${enable}"
          S: * LIST (\HasNoChildren) "/" "Ångström-${enable}"
          S: a6 OK …
          C: a7 CREATE "A\u030angstro\u0308m"
          S: a7 NO [CANNOT] …
        `.replaceAll('\\u030a', '\u030a').replaceAll('\\u0308', '\u0308'));
      } finally {
        c.close();
      }
    });
  }

  // [CLOSED] at a3 in rev1 too: RFC 7162 §3.2.11 requires it of a server advertising CONDSTORE or QRESYNC.
  test('IMAP4rev1 (nothing enabled): the same names in modified UTF-7 (RFC 3501 §5.1.3)', async () => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    try {
      await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
      await replayRev2(c, String.raw`
        C: a1 LIST "" "K*"
        S: * LIST (\HasChildren) "/" K&APw-che
        S: * LIST (\HasNoChildren) "/" K&APw-che/&ZeVnLIqe-
        S: a1 OK …
        C: a2 SELECT K&APw-che
        S: * 0 EXISTS
        S: * 0 RECENT
        S: * FLAGS …
        S: * OK [PERMANENTFLAGS …] …
        S: * OK [UIDVALIDITY …] …
        S: * OK [UIDNEXT 1] …
        S: * OK [MAILBOXID (…)] …
        S: a2 OK [READ-WRITE] …
        C: a3 SELECT INBOX
        S: * OK [CLOSED] …
        S: * 0 EXISTS
        S: * 0 RECENT
        S: * FLAGS …
        S: * OK [PERMANENTFLAGS …] …
        S: * OK [UIDVALIDITY …] …
        S: * OK [UIDNEXT 1] …
        S: * OK [MAILBOXID (…)] …
        S: a3 OK [READ-WRITE] …
        C: a4 SEARCH ALL
        S: * SEARCH
        S: a4 OK …
      `);
    } finally {
      c.close();
    }
  });
});

describe('RFC 6855 §3-§4 after ENABLE UTF8=ACCEPT', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
    importAll(bed);
  });
  after(() => bed.close());

  test('RFC 6855 §3: SEARCH with a CHARSET is BAD, SORT/THREAD accept only UTF-8; without CHARSET strings are UTF-8', async () => {
    const c = await rev2Client(bed, 'UTF8=ACCEPT');
    try {
      await replayRev2(c, String.raw`
        C: s SELECT INBOX
        S: * 10 EXISTS
        S: * 0 RECENT
        S: * FLAGS …
        S: * OK [PERMANENTFLAGS …] …
        S: * OK [UIDVALIDITY …] …
        S: * OK [UIDNEXT 11] …
        S: * OK [MAILBOXID (…)] …
        S: s OK …
        C: a1 SEARCH CHARSET UTF-8 TEXT "Grüße"
        S: a1 BAD …
        C: a2 SEARCH TEXT "Grüße"
        S: * SEARCH 3
        S: a2 OK …
        C: a3 SORT (ARRIVAL) US-ASCII ALL
        S: a3 BAD …
        C: a4 SORT (ARRIVAL) UTF-8 SUBJECT "Grüße"
        S: * SORT 3
        S: a4 OK …
        C: a5 THREAD ORDEREDSUBJECT ISO-8859-1 ALL
        S: a5 BAD …
      `);
    } finally {
      c.close();
    }
  });

  test('RFC 6855 §4 APPEND UTF8 (~{n}): a message with UTF-8 headers is stored byte for byte', async () => {
    const c = await rev2Client(bed, 'UTF8=ACCEPT');
    const message = Buffer.from('From: Jürgen <jürgen@bücher.example>\r\nSubject: Grüße\r\n\r\nHallo\r\n', 'utf8');
    try {
      c.write(`a1 APPEND Drafts UTF8 (~{${message.length}+}\r\n`);
      c.write(message);
      c.write(')\r\n');
      const done = await c.until('a1');
      assert.match(done.at(-1)!, /^a1 OK \[APPENDUID \d+ 1\]/);
      await c.command('s', 'SELECT Drafts');
      const fetched = await c.command('f', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)');
      const text = Buffer.from(fetched.join('\n'), 'latin1').toString('utf8');
      assert.match(text, new RegExp(`RFC822.SIZE ${message.length}\\b`));
      const field = 'Subject: Grüße\r\n\r\n'; // BODY[HEADER.FIELDS] ends with the blank line (RFC 9051 §6.4.5)
      assert.ok(text.includes(`{${Buffer.byteLength(field)}}\nSubject: Grüße`), text);
    } finally {
      c.close();
    }
  });

  test('RFC 6855 §4: without ENABLE UTF8=ACCEPT the UTF8 APPEND form is BAD', async () => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    try {
      await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
      c.write('a1 APPEND Drafts UTF8 (~{5+}\r\nHallo)\r\n');
      const done = await c.until('a1');
      assert.match(done.at(-1)!, /^a1 BAD /);
    } finally {
      c.close();
    }
  });
});
