/**
 * Golden C:/S: transcripts of the write commands, taken from the RFCs' own examples (RFC 9051 §6.4.6 STORE,
 * §6.4.3 EXPUNGE, RFC 4315 §2.1 UID EXPUNGE and §3 APPENDUID/COPYUID, RFC 6851 §3.3 UID MOVE). The mailboxes are
 * filled so that the RFC's message numbers and flags hold; where the RFC's server chose values a server may choose
 * differently (UIDVALIDITY, UIDs, human-readable text), the S: line has `…` there; everything else must match
 * byte for byte. Never written from our own output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { playLoggedIn } from './replay.ts';

let bed: TestBed;
const enc = new TextEncoder();
const msg = (n: number) => enc.encode(`From: a@example.org\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@example.org>\r\n\r\nBody ${n}\r\n`);

/** A new mailbox (by name) holding `count` messages; `keywords[i]` for message i + 1. */
async function mailboxWith(name: string, count: number, keywords: Record<number, string[]> = {}): Promise<void> {
  const accountId = await accountIdOf(bed);
  const [[, r]] = await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name } } }, '0']]) as [[string, { created: Record<string, unknown> }, string]];
  assert.ok(r.created?.m, `created mailbox ${name}`);
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= count; i++) bed.store.importMessage(bed.user, name, msg(i), { receivedAt: new Date(t0 + i * 1000), ...(keywords[i] ? { keywords: keywords[i] } : {}) });
}

before(async () => {
  bed = await startTestBed();
});
after(() => bed.close());

/** Replay a transcript once logged in (see replay.ts for the line syntax). */
function replay(transcript: string): Promise<void> {
  return playLoggedIn(bed.imapPort, bed.user, bed.password, transcript);
}

test('RFC 9051 §6.4.6 STORE: +FLAGS (\\Deleted) answers with each message\'s new flags', async () => {
  await mailboxWith('store-example', 4, { 2: ['$seen'], 4: ['$flagged', '$seen'] });
  await replay(`
    C: s SELECT store-example
    S: * FLAGS …
    S: * 4 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT 5] …
    S: * OK [MAILBOXID (…)] …
    S: s OK [READ-WRITE] …
    C: A003 STORE 2:4 +FLAGS (\\Deleted)
    S: * 2 FETCH (FLAGS (\\Deleted \\Seen))
    S: * 3 FETCH (FLAGS (\\Deleted))
    S: * 4 FETCH (FLAGS (\\Deleted \\Flagged \\Seen))
    S: A003 OK …
  `);
});

test('RFC 9051 §6.4.3 EXPUNGE: messages 3, 4, 7 and 11 had \\Deleted', async () => {
  await mailboxWith('expunge-example', 12);
  await replay(`
    C: s SELECT expunge-example
    S: * FLAGS …
    S: * 12 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT 13] …
    S: * OK [MAILBOXID (…)] …
    S: s OK [READ-WRITE] …
    C: d STORE 3:4,7,11 +FLAGS.SILENT (\\Deleted)
    S: d OK …
    C: A202 EXPUNGE
    S: * 3 EXPUNGE
    S: * 3 EXPUNGE
    S: * 5 EXPUNGE
    S: * 8 EXPUNGE
    S: A202 OK …
    C: f FETCH 1:* UID
    S: * 1 FETCH (UID 1)
    S: * 2 FETCH (UID 2)
    S: * 3 FETCH (UID 5)
    S: * 4 FETCH (UID 6)
    S: * 5 FETCH (UID 8)
    S: * 6 FETCH (UID 9)
    S: * 7 FETCH (UID 10)
    S: * 8 FETCH (UID 12)
    S: f OK …
  `);
});

test('RFC 4315 §2.1 UID EXPUNGE 3000:3002 (here UIDs 3:5): only the \\Deleted messages of the set', async () => {
  await mailboxWith('uid-expunge-example', 6);
  await replay(`
    C: s SELECT uid-expunge-example
    S: * FLAGS …
    S: * 6 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT 7] …
    S: * OK [MAILBOXID (…)] …
    S: s OK [READ-WRITE] …
    C: d UID STORE 1,3:6 +FLAGS.SILENT (\\Deleted)
    S: d OK …
    C: A003 UID EXPUNGE 3:5
    S: * 3 EXPUNGE
    S: * 3 EXPUNGE
    S: * 3 EXPUNGE
    S: A003 OK …
    C: f FETCH 1:* (UID FLAGS)
    S: * 1 FETCH (UID 1 FLAGS (\\Deleted))
    S: * 2 FETCH (UID 2 FLAGS ())
    S: * 3 FETCH (UID 6 FLAGS (\\Deleted))
    S: f OK …
  `);
});

test('RFC 4315 §3 APPENDUID and COPYUID (RFC 9051 §6.3.12 example), and "nothing copied"', async () => {
  await mailboxWith('saved-messages', 4);
  await mailboxWith('meeting', 0);
  const fred = [
    'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)', 'From: Fred Foobar <foobar@example.com>', 'Subject: afternoon meeting',
    'To: mooch@example.com', 'Message-Id: <B27397-0100000@example.com>', 'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII', '', 'Hello Joe, do you think we can meet at 3:30 tomorrow?', '',
  ].join('\r\n');
  assert.equal(fred.length, 297); // RFC 4315's literal, with CRLF line ends
  await replay(`
    C: A003 APPEND saved-messages (\\Seen) {297+}\\r\\n${fred.replaceAll('\r\n', '\\r\\n')}
    S: A003 OK [APPENDUID … 5] …
    C: s SELECT saved-messages
    S: * FLAGS …
    S: * 5 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT 6] …
    S: * OK [MAILBOXID (…)] …
    S: s OK [READ-WRITE] …
    C: A004 COPY 2:4 meeting
    S: A004 OK [COPYUID … 2:4 1:3] …
    C: A005 UID COPY 305:310 meeting
    S: A005 OK No matching messages, so nothing copied
    C: A006 COPY 2 funny
    S: A006 NO [TRYCREATE] …
    C: f FETCH 5 (UID FLAGS)
    S: * 5 FETCH (UID 5 FLAGS (\\Seen))
    S: f OK …
  `);
});

test('RFC 6851 §3.3 UID MOVE: COPYUID in an untagged OK, then the EXPUNGEs, then OK', async () => {
  await mailboxWith('move-source', 5);
  await mailboxWith('foo', 0);
  await replay(`
    C: s SELECT move-source
    S: * FLAGS …
    S: * 5 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT 6] …
    S: * OK [MAILBOXID (…)] …
    S: s OK [READ-WRITE] …
    C: a UID MOVE 2:4 foo
    S: * OK [COPYUID … 2:4 1:3] …
    S: * 2 EXPUNGE
    S: * 2 EXPUNGE
    S: * 2 EXPUNGE
    S: a OK …
  `);
});
