/**
 * RFC 7162 §3.2 (QRESYNC) examples as transcripts, adapted to a ten-message INBOX (UIDs 1..10). The commands and
 * the shapes of the answers are the RFC's (§3.2.3 ENABLE, §3.2.5 SELECT (QRESYNC), §3.2.5.2 sequence match data,
 * §3.2.6 UID FETCH (CHANGEDSINCE VANISHED), §3.2.7 / §3.2.9 EXPUNGE and UID EXPUNGE, §3.2.10 VANISHED,
 * §3.2.11 CLOSED); the data are ours. Mod-sequences are the gateway's own counter (DESIGN.md rule 5): the
 * transcripts take them from HIGHESTMODSEQ and check what the RFC requires of them (changes after a value are
 * reported, nothing at or before it).
 *
 * The story (one bed, tests run in order): a client syncs at H0; then UIDs 2 and 9 get flags and 1, 3:5, 7 are
 * expunged by another session; the client comes back with SELECT (QRESYNC (V H0 ...)) in its variants.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { play } from './replay.ts';

let bed: TestBed;
/** UIDVALIDITY of INBOX and its HIGHESTMODSEQ when the client last synchronized (before the changes). */
let V = 0;
let H0 = 0;

before(async () => {
  bed = await startTestBed();
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= 10; i++) {
    const raw = new TextEncoder().encode(`From: q${i}@example.org\r\nSubject: q${i}\r\nMessage-ID: <q${i}@example.org>\r\n\r\nbody ${i}\r\n`);
    bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(t0 + i * 1000) });
  }
  const c = await login();
  const sel = await c.command('s', 'SELECT INBOX (CONDSTORE)');
  V = num(/\[UIDVALIDITY (\d+)\]/, sel);
  H0 = num(/\[HIGHESTMODSEQ (\d+)\]/, sel);
  // The changes the client was away for: flags on UIDs 2 and 9, expunge of 1, 3:5 and 7.
  await c.command('f1', 'UID STORE 2 +FLAGS.SILENT (\\Seen \\Answered)');
  await c.command('f2', 'UID STORE 9 +FLAGS.SILENT (\\Draft $MDNSent)');
  await c.command('d', 'UID STORE 1,3:5,7 +FLAGS.SILENT (\\Deleted)');
  await c.command('x', 'EXPUNGE');
  c.close();
});
after(() => bed.close());

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

function num(re: RegExp, lines: string[]): number {
  const m = lines.map((l) => re.exec(l)).find((x) => x);
  assert.ok(m, `${re} not in ${JSON.stringify(lines)}`);
  return Number(m[1]);
}

async function session(transcript: string, vars: Record<string, string> = {}): Promise<void> {
  const c = await login();
  try {
    await play(c, transcript, { V: String(V), H0: String(H0), ...vars });
  } finally {
    c.close();
  }
}

/** The responses of a plain SELECT INBOX in rev1 after the changes (RFC 3501 §6.3.1), up to HIGHESTMODSEQ. */
const SELECTED = String.raw`
  S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
  S: * 5 EXISTS
  S: * 0 RECENT
  S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] …
  S: * OK [UIDVALIDITY {V}] …
  S: * OK [UIDNEXT 11] …
  S: * OK [MAILBOXID (…)] …
  S: * OK [HIGHESTMODSEQ …] …
`;

test('RFC 7162 §3.2.3 / §3.2.5 / §3.2.6: QRESYNC forms are BAD before ENABLE QRESYNC; ENABLE answers ENABLED', () => session(String.raw`
  C: A01 SELECT INBOX (QRESYNC ({V} {H0}))
  S: A01 BAD …
  C: A02 SELECT INBOX
  T: A02 OK [READ-WRITE] …
  C: A03 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {H0} VANISHED)
  S: A03 BAD …
  C: A04 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: * OK [HIGHESTMODSEQ …] …
  S: A04 OK …
  C: A05 ENABLE QRESYNC CONDSTORE
  S: * ENABLED
  S: A05 OK …
`));

test('RFC 7162 §3.2.3: ENABLE QRESYNC CONDSTORE enables both; CAPABILITY lists QRESYNC', () => session(String.raw`
  C: A00 CAPABILITY
  S: * CAPABILITY … CONDSTORE QRESYNC …
  S: A00 OK …
  C: A01 ENABLE QRESYNC CONDSTORE
  S: * ENABLED QRESYNC CONDSTORE
  S: A01 OK …
`));

test('RFC 7162 §3.2.5.1 example: VANISHED (EARLIER) of the expunged, then FETCH of the changed, then OK', () => session(String.raw`
  C: A02 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: A02 OK …
  C: A03 SELECT INBOX (QRESYNC ({V} {H0} 1:10))
  ${SELECTED}
  S: * VANISHED (EARLIER) 1,3:5,7
  S: * 1 FETCH (UID 2 FLAGS (\Answered \Seen) MODSEQ (…))
  S: * 4 FETCH (UID 9 FLAGS (\Draft $MDNSent) MODSEQ (…))
  S: A03 OK [READ-WRITE] SELECT completed
  C: A04 EXAMINE INBOX (QRESYNC ({V} {H0}))
  S: * OK [CLOSED] …
  S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
  S: * 5 EXISTS
  S: * 0 RECENT
  S: * OK [PERMANENTFLAGS ()] …
  S: * OK [UIDVALIDITY {V}] …
  S: * OK [UIDNEXT 11] …
  S: * OK [MAILBOXID (…)] …
  S: * OK [HIGHESTMODSEQ …] …
  S: * VANISHED (EARLIER) 1,3:5,7
  S: * 1 FETCH (UID 2 FLAGS (\Answered \Seen) MODSEQ (…))
  S: * 4 FETCH (UID 9 FLAGS (\Draft $MDNSent) MODSEQ (…))
  S: A04 OK [READ-ONLY] EXAMINE completed
`));

test('RFC 7162 §3.2.5.1: known UIDs limit both the expunges and the flag changes reported', () => session(String.raw`
  C: A02 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: A02 OK …
  C: A03 SELECT INBOX (QRESYNC ({V} {H0} 5:8,10))
  ${SELECTED}
  S: * VANISHED (EARLIER) 5,7
  S: A03 OK [READ-WRITE] SELECT completed
  C: A04 SELECT INBOX (QRESYNC ({V} {H0} 2))
  S: * OK [CLOSED] …
  ${SELECTED}
  S: * 1 FETCH (UID 2 FLAGS (\Answered \Seen) MODSEQ (…))
  S: A04 OK [READ-WRITE] SELECT completed
`));

test('RFC 7162 §3.2.5: a UIDVALIDITY that does not match: the remaining parameters are ignored', () => session(String.raw`
  C: A01 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: A01 OK …
  C: A02 SELECT INBOX (QRESYNC ({WRONG} {H0} 41,43:211,214:541))
  ${SELECTED}
  S: A02 OK [READ-WRITE] SELECT completed
`, { WRONG: String(V + 1) }));

test('RFC 7162 §3.2.5.2: sequence match data narrow the VANISHED range to UIDs above the last matching pair', () => session(String.raw`
  C: A01 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: A01 OK …
  C: B04 SELECT INBOX (QRESYNC ({V} {H0} 1:10 (1,2,3 2,6,8)))
  ${SELECTED}
  S: * 1 FETCH (UID 2 FLAGS (\Answered \Seen) MODSEQ (…))
  S: * 4 FETCH (UID 9 FLAGS (\Draft $MDNSent) MODSEQ (…))
  S: B04 OK [READ-WRITE] SELECT completed
  C: B05 SELECT INBOX (QRESYNC ({V} {H0} 1:10 (1,2 2,4)))
  S: * OK [CLOSED] …
  ${SELECTED}
  S: * VANISHED (EARLIER) 3:5,7
  S: * 1 FETCH (UID 2 FLAGS (\Answered \Seen) MODSEQ (…))
  S: * 4 FETCH (UID 9 FLAGS (\Draft $MDNSent) MODSEQ (…))
  S: B05 OK [READ-WRITE] SELECT completed
`));

test('RFC 7162 §3.2.5 / §7: malformed QRESYNC parameters are BAD and leave the selected mailbox as it was', () => session(String.raw`
  C: A01 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: A01 OK …
  C: A02 SELECT INBOX
  T: A02 OK [READ-WRITE] …
  C: A03 SELECT INBOX (QRESYNC ({V} {H0} 1:*))
  S: A03 BAD …
  C: A04 SELECT INBOX (QRESYNC ({V} {H0} 1:10 (1:3 2,6)))
  S: A04 BAD …
  C: A05 SELECT INBOX (QRESYNC ({V}))
  S: A05 BAD …
  C: A06 SELECT INBOX (QRESYNC ({V} {H0} 1:10 (2,1 6,2)))
  S: A06 BAD …
  C: A07 FETCH 1:* (FLAGS) (CHANGEDSINCE {H0} VANISHED)
  S: A07 BAD …
  C: A08 UID FETCH 1:* (FLAGS) (VANISHED)
  S: A08 BAD …
  C: A09 UID FETCH 2 (UID)
  S: * 1 FETCH (UID 2)
  S: A09 OK …
`));

test('RFC 7162 §3.2.6 example: UID FETCH (CHANGEDSINCE VANISHED) sends VANISHED (EARLIER) before the FETCHes', () => session(String.raw`
  C: A01 ENABLE QRESYNC
  S: * ENABLED QRESYNC
  S: A01 OK …
  C: A02 SELECT INBOX
  T: A02 OK [READ-WRITE] …
  C: s100 UID FETCH 1:10 (FLAGS) (CHANGEDSINCE {H0} VANISHED)
  S: * VANISHED (EARLIER) 1,3:5,7
  S: * 1 FETCH (UID 2 FLAGS (\Answered \Seen) MODSEQ (…))
  S: * 4 FETCH (UID 9 FLAGS (\Draft $MDNSent) MODSEQ (…))
  S: s100 OK FETCH completed
  C: s101 UID FETCH 4:8 (FLAGS) (CHANGEDSINCE {H0} VANISHED)
  S: * VANISHED (EARLIER) 4:5,7
  S: s101 OK FETCH completed
  C: s102 UID FETCH 6:* (FLAGS) (CHANGEDSINCE {H0} VANISHED)
  S: * VANISHED (EARLIER) 7
  S: * 4 FETCH (UID 9 FLAGS (\Draft $MDNSent) MODSEQ (…))
  S: s102 OK FETCH completed
`));

test('RFC 7162 §3.2.7 / §3.2.9 / §3.2.10.2 and RFC 6851 §4.4: EXPUNGE, UID EXPUNGE and MOVE answer VANISHED and HIGHESTMODSEQ', async () => {
  // Also §3.2.4: under QRESYNC every untagged FETCH carries UID and MODSEQ, a plain STORE's too (A09), and a
  // .SILENT STORE that changed flags answers FETCH (UID MODSEQ) (§6 example A151, §3.1.4.2 Example 14; as Dovecot).
  const c = await login();
  try {
    await play(c, String.raw`
      C: A01 ENABLE QRESYNC
      S: * ENABLED QRESYNC
      S: A01 OK …
      C: A02 SELECT INBOX
      T: A02 OK [READ-WRITE] …
      C: A03 UID STORE 6,9 +FLAGS.SILENT (\Deleted)
      S: * 2 FETCH (UID 6 MODSEQ (…))
      S: * 4 FETCH (UID 9 MODSEQ (…))
      S: A03 OK …
      C: B202 EXPUNGE
      S: * VANISHED 6,9
      S: B202 OK [HIGHESTMODSEQ …] …
      C: A04 UID STORE 2,8 +FLAGS.SILENT (\Deleted)
      S: * 1 FETCH (UID 2 MODSEQ (…))
      S: * 2 FETCH (UID 8 MODSEQ (…))
      S: A04 OK …
      C: . UID EXPUNGE 8:10
      S: * VANISHED 8
      S: . OK [HIGHESTMODSEQ …] …
      C: A05 UID MOVE 10 Trash
      S: * OK [COPYUID …] …
      S: * VANISHED 10
      S: A05 OK [HIGHESTMODSEQ …] …
      C: A06 FETCH 1 (UID FLAGS)
      S: * 1 FETCH (UID 2 FLAGS (\Answered \Deleted \Seen))
      S: A06 OK …
    `);
    // §3.2.7: the HIGHESTMODSEQ sent is the mailbox's after the expunge: resyncing from it reports nothing; from one
    // below it, the UID that vanished at it (§3.2.5.1).
    const st = await c.command('st', 'STATUS INBOX (HIGHESTMODSEQ)');
    const h = num(/HIGHESTMODSEQ (\d+)/, st);
    await play(c, String.raw`
      C: A07 SELECT INBOX (QRESYNC ({V} {H}))
      S: * OK [CLOSED] …
      S: * FLAGS …
      S: * 1 EXISTS
      S: * 0 RECENT
      S: * OK [PERMANENTFLAGS …] …
      S: * OK [UIDVALIDITY {V}] …
      S: * OK [UIDNEXT 11] …
      S: * OK [MAILBOXID (…)] …
      S: * OK [HIGHESTMODSEQ {H}] …
      S: A07 OK [READ-WRITE] SELECT completed
      C: A08 SELECT INBOX (QRESYNC ({V} {H1}))
      S: * OK [CLOSED] …
      S: * FLAGS …
      S: * 1 EXISTS
      S: * 0 RECENT
      S: * OK [PERMANENTFLAGS …] …
      S: * OK [UIDVALIDITY {V}] …
      S: * OK [UIDNEXT 11] …
      S: * OK [MAILBOXID (…)] …
      S: * OK [HIGHESTMODSEQ {H}] …
      S: * VANISHED (EARLIER) 10
      S: A08 OK [READ-WRITE] SELECT completed
      C: A09 STORE 1 +FLAGS (\Flagged)
      S: * 1 FETCH (UID 2 FLAGS (\Answered \Deleted \Flagged \Seen) MODSEQ (…))
      S: A09 OK …
    `, { V: String(V), H: String(h), H1: String(h - 1) });
  } finally {
    c.close();
  }
});

test('RFC 7162 §3.2.7 / §3.2.10: without ENABLE QRESYNC the same commands still answer EXPUNGE', async () => {
  const c = await login();
  try {
    const raw = 'From: z@example.org\r\nSubject: z\r\n\r\nz\r\n';
    for (let i = 0; i < 4; i++) await c.command(`a${i}`, `APPEND INBOX {${raw.length}+}\r\n${raw}`);
    // Five messages; 2, 3 and 5 get \Deleted: the RFC's "* 3 EXPUNGE, * 3 EXPUNGE, * 5 EXPUNGE" pattern, shifted.
    await play(c, String.raw`
      C: A02 SELECT INBOX (CONDSTORE)
      T: A02 OK [READ-WRITE] …
      C: A03 STORE 1 -FLAGS.SILENT (\Deleted)
      T: A03 OK …
      C: A04 STORE 2:3,5 +FLAGS.SILENT (\Deleted)
      T: A04 OK …
      C: A202 EXPUNGE
      S: * 2 EXPUNGE
      S: * 2 EXPUNGE
      S: * 3 EXPUNGE
      S: A202 OK EXPUNGE completed
    `);
  } finally {
    c.close();
  }
});
