/**
 * Golden C:/S: transcripts for FETCH, from the RFCs' own examples (RFC and section named on each). Where the
 * RFC's server made choices a server may make differently (its ids, text, dates in its zone, sizes of headers the
 * example does not show), the S: line has `…` there; everything else must match byte for byte. The RFC examples
 * are folded over several lines for display; the wire form is one line, with no space between the addresses of
 * a list (RFC 9051 §9 `env-cc = "(" 1*address ")"`). Never written from our own output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { play } from './replay.ts';

/**
 * The message of RFC 9051 Appendix E's `fetch 12 full` example, rebuilt from its ENVELOPE and BODY: a
 * TEXT/PLAIN US-ASCII 7BIT body of 3028 octets in 92 lines.
 */
const TERRY = (() => {
  const head = [
    'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
    'From: Terry Gray <gray@cac.washington.edu>',
    'Subject: IMAP4rev2 WG mtg summary and minutes',
    'To: imap@cac.washington.edu',
    'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>',
    'Message-Id: <B27397-0100000@cac.washington.ed>',
    'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    'Content-Transfer-Encoding: 7BIT',
  ].join('\r\n') + '\r\n\r\n';
  // 84 lines of 31 characters and 8 of 30, each with CRLF: 84*33 + 8*32 = 3028 octets, 92 lines.
  const lines = [...Array.from({ length: 84 }, () => 'x'.repeat(31)), ...Array.from({ length: 8 }, () => 'y'.repeat(30))];
  return new TextEncoder().encode(head + lines.join('\r\n') + '\r\n');
})();

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
  bed.store.importMessage(bed.user, 'inbox', TERRY, { keywords: ['$seen'], receivedAt: new Date('1996-07-17T09:44:25Z') });
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

test('RFC 9051 Appendix E: fetch 12 full (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)', () =>
  replay(`
    C: a001 LOGIN {USER} {PASSWORD}
    S: a001 OK …
    C: a002 select inbox
    T: a002 OK [READ-WRITE] …
    C: a003 fetch 1 full
    S: * 1 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 09:44:25 +0000" RFC822.SIZE ${TERRY.length} ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.ed>") BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))
    S: a003 OK …
  `));

test('RFC 8474 §7 example: fetch (emailid threadid) answers EMAILID (id) THREADID (id)', () =>
  replay(`
    C: 1 LOGIN {USER} {PASSWORD}
    S: 1 OK …
    C: 2 EXAMINE INBOX
    T: 2 OK [READ-ONLY] …
    C: 22 fetch 1:* (emailid threadid)
    S: * 1 FETCH (EMAILID (…) THREADID (…))
    S: 22 OK …
  `));

test('RFC 8970 §3.2 and §4.1 examples: PREVIEW, and PREVIEW (LAZY) with ENVELOPE', () =>
  replay(`
    C: 1 LOGIN {USER} {PASSWORD}
    S: 1 OK …
    C: 2 EXAMINE INBOX
    T: 2 OK [READ-ONLY] …
    C: A1 FETCH 1 (PREVIEW)
    S: * 1 FETCH (PREVIEW "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx …")
    S: A1 OK …
    C: B1 FETCH 1 (ENVELOPE PREVIEW (LAZY))
    S: * 1 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" …) PREVIEW "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx …")
    S: B1 OK …
  `));
