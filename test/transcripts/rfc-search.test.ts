/**
 * Golden C:/S: transcripts from the RFC examples of SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4), ESEARCH (RFC 4731
 * §3.1), SEARCHRES (RFC 5182 §4 / RFC 9051 §6.4.4.4) and SORT / THREAD (RFC 5256 §3), adapted to the mailbox of
 * test/search/mailbox.ts (the RFCs' own mailboxes are not given): the commands are the RFC's, the numbers are
 * those this mailbox must give (worked out by hand; see the comments). `…` matches any text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { play } from './replay.ts';
import { importAll } from '../search/mailbox.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
  importAll(bed);
});
after(() => bed.close());

/** Replay a transcript with INBOX selected (see replay.ts for the line syntax). */
async function replay(transcript: string): Promise<void> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('s', 'SELECT INBOX');
  try {
    await play(c, transcript);
  } finally {
    c.close();
  }
}

// Facts of the mailbox used below: FLAGGED = 3, 10; From contains "Smith" = 1, 10; UNSEEN = 3..9; UIDs 1..10;
// every message is smaller than 4096 octets but 5 (3,101); TEXT "alice" = 1 2 3 6 7 8 9.

test('RFC 3501 §6.4.4 SEARCH examples (rev1 * SEARCH answers)', () =>
  replay(`
    C: A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    S: * SEARCH 3
    S: A282 OK …
    C: A283 SEARCH TEXT "string not in mailbox"
    S: * SEARCH
    S: A283 OK …
    C: A284 SEARCH CHARSET UTF-8 TEXT {7}
    S: + …
    C: Grüße
    S: * SEARCH 3
    S: A284 OK …
  `));

test('RFC 4731 §3.1 / RFC 9051 §6.4.4 ESEARCH examples', () =>
  replay(`
    C: A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    S: * ESEARCH (TAG "A282") MIN 3 COUNT 1
    S: A282 OK …
    C: A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    S: * ESEARCH (TAG "A283") ALL 3
    S: A283 OK …
    C: A284 SEARCH RETURN (MIN) UNSEEN
    S: * ESEARCH (TAG "A284") MIN 3
    S: A284 OK …
    C: A285 UID SEARCH RETURN (MIN MAX) 1:5000
    S: * ESEARCH (TAG "A285") UID MIN 1 MAX 10
    S: A285 OK …
    C: A286 SEARCH RETURN (COUNT) DELETED
    S: * ESEARCH (TAG "A286") COUNT 0
    S: A286 OK …
  `));

test('RFC 5182 §4 SEARCHRES examples 1-5: SAVE, pipelined $, $ in UID SEARCH and OR, failed SAVE', () =>
  replay(`
    C: A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    C: A283 FETCH $ (UID FLAGS)
    S: A282 OK …
    S: * 3 FETCH (UID 3 FLAGS (\\Flagged))
    S: A283 OK …
    C: A300 SEARCH RETURN (SAVE) SINCE 1-Jan-2004 NOT FROM "Smith"
    S: A300 OK …
    C: A301 UID SEARCH UID $ SMALLER 4096
    S: * SEARCH 2 3 4 5 6 7 8 9
    S: A301 OK …
    C: A302 UID SEARCH $ SMALLER 3000
    S: * SEARCH 2 3 4 6 7 8 9
    S: A302 OK …
    C: P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {5+}
    C: alice
    S: * SEARCH 1 2 3 6 7 8 9
    S: P283 OK …
    C: B283 SEARCH RETURN (SAVE) CHARSET KOI8-R (OR $ 1,3000:3021) TEXT {4+}
    C: XXXX
    S: B283 NO [BADCHARSET …] …
    C: B284 FETCH $ (UID)
    S: B284 OK …
  `));

test('RFC 5256 §3 SORT examples', () =>
  replay(`
    C: A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994
    S: * SORT 10 7 3 8 9 1 2 5 6 4
    S: A282 OK …
    C: A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL
    S: * SORT 10 7 3 8 9 5 2 1 6 4
    S: A283 OK …
    C: A284 SORT (SUBJECT) US-ASCII TEXT "not in mailbox"
    S: * SORT
    S: A284 OK …
  `));

test('RFC 5256 §3 THREAD examples (ORDEREDSUBJECT, REFERENCES)', () =>
  replay(`
    C: A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000
    S: * THREAD (1 (2)(5))(3)(4)(6)(7)(9 8)(10)
    S: A283 OK …
    C: A284 THREAD ORDEREDSUBJECT US-ASCII TEXT "gewp"
    S: * THREAD
    S: A284 OK …
    C: A285 THREAD REFERENCES UTF-8 SINCE 5-MAR-2000
    S: * THREAD (1 2 5)(3)(4)(6)(7)(9 8)(10)
    S: A285 OK …
  `));
