/**
 * Golden C:/S: transcripts taken from the RFCs' own examples (the RFC and section are named on each). Where the
 * RFC's server made choices a server may make differently (human-readable text, counts, UIDVALIDITY values, its own
 * ID), the S: line has `…` there; everything else must match byte for byte. Never written from our own output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { play } from './replay.ts';
import { SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
  bed.store.importMessage(bed.user, 'inbox', SIMPLE);
});
after(() => bed.close());

/** Replay a transcript after the greeting (see replay.ts for the line syntax). */
async function replay(transcript: string): Promise<void> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line(); // greeting
  try {
    await play(c, transcript, { USER: `"${bed.user}"`, PASSWORD: `"${bed.password}"` });
  } finally {
    c.close();
  }
}

test('RFC 9051 §6.1.1 CAPABILITY, §6.1.2 NOOP, §6.1.3 LOGOUT', () =>
  replay(`
    C: abcd CAPABILITY
    S: * CAPABILITY IMAP4rev1 …
    S: abcd OK …
    C: a002 NOOP
    S: a002 OK …
    C: A023 LOGOUT
    S: * BYE …
    S: A023 OK …
  `));

test('RFC 9051 §6.2.3 LOGIN (with the CAPABILITY response code of §7.1)', () =>
  replay(`
    C: a001 LOGIN {USER} {PASSWORD}
    S: a001 OK [CAPABILITY IMAP4rev1 …] …
  `));

test('RFC 2971 §3.3 ID: the client identifies itself, the server answers with its own ID', () =>
  replay(`
    C: a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")
    S: * ID ("name" …)
    S: a023 OK …
    C: a024 ID NIL
    S: * ID (…)
    S: a024 OK …
  `));

test('RFC 5161 §3.1 ENABLE: only after login; ENABLED lists just what was enabled (nothing unknown)', () =>
  replay(`
    C: t1 ENABLE CONDSTORE
    S: t1 BAD …
    C: t2 LOGIN {USER} {PASSWORD}
    S: t2 OK …
    C: t3 ENABLE X-GOOD-IDEA
    S: * ENABLED
    S: t3 OK …
  `));

test('RFC 9051 §6.3.9 LIST "" "" returns the delimiter and the root; LIST "" INBOX', () =>
  replay(`
    C: a LOGIN {USER} {PASSWORD}
    S: a OK …
    C: A101 LIST "" ""
    S: * LIST (\\Noselect) "/" ""
    S: A101 OK …
    C: A102 LIST "" inbox
    S: * LIST (\\HasNoChildren) "/" INBOX
    S: A102 OK …
  `));

test('RFC 3501 §6.3.1 SELECT (rev1 responses) and RFC 3691 UNSELECT', () =>
  replay(`
    C: a LOGIN {USER} {PASSWORD}
    S: a OK …
    C: A142 SELECT INBOX
    S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
    S: * 1 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] …
    S: * OK [UIDVALIDITY …] …
    S: * OK [UIDNEXT 2] …
    S: * OK [MAILBOXID (…)] …
    S: A142 OK [READ-WRITE] …
    C: A341 UNSELECT
    S: A341 OK …
    C: A342 FETCH 1 FLAGS
    S: A342 BAD …
  `));

test('RFC 9051 §6.3.3 EXAMINE is read-only with no permanent flags; §6.4.1 CLOSE', () =>
  replay(`
    C: a LOGIN {USER} {PASSWORD}
    S: a OK …
    C: A932 EXAMINE INBOX
    S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
    S: * 1 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS ()] …
    S: * OK [UIDVALIDITY …] …
    S: * OK [UIDNEXT 2] …
    S: * OK [MAILBOXID (…)] …
    S: A932 OK [READ-ONLY] …
    C: A341 CLOSE
    S: A341 OK …
  `));

test('RFC 9051 §6.4.5 FETCH FLAGS/UID/RFC822.SIZE/INTERNALDATE and §6.4.9 UID FETCH', () =>
  replay(`
    C: a LOGIN {USER} {PASSWORD}
    S: a OK …
    C: b EXAMINE INBOX
    S: …
    S: …
    S: …
    S: …
    S: …
    S: …
    S: …
    S: b OK …
    C: A654 FETCH 1 (FLAGS RFC822.SIZE INTERNALDATE)
    S: * 1 FETCH (FLAGS () RFC822.SIZE ${SIMPLE.length} INTERNALDATE "…")
    S: A654 OK …
    C: A999 UID FETCH 1:* FLAGS
    S: * 1 FETCH (UID 1 FLAGS ())
    S: A999 OK …
  `));
