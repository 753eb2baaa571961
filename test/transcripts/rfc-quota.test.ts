/**
 * Golden C:/S: transcripts of QUOTA (RFC 9208 §4.1.1-§4.1.4, §4.3.1), JMAPACCESS (RFC 9698) and APPENDLIMIT
 * (RFC 7889), from the RFCs' own examples. The JMAP store holds quotas (RFC 9425) and messages sized so that the
 * RFC's figures hold: 42 messages of 2,536 octets = 106,512 octets = 104 units of 1024 octets (RFC 9208 §5.1),
 * under limits of 1000 messages and 10923847 KiB. Quota root names are the server's choice (§3.2), so they are `…`
 * where the RFC's server chose them; everything else must match byte for byte. Never written from our own output.
 * Last, RFC 8438 §3's STATUS SIZE example (STATUS=SIZE), with messages of the RFC's sizes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { playLoggedIn } from './replay.ts';

let bed: TestBed;
const enc = new TextEncoder();
const SIZE = 2536;
/** A message of exactly `size` octets. */
function msg(n: number, size = SIZE): Uint8Array {
  const head = `From: a@example.org\r\nSubject: message ${n}\r\nMessage-ID: <q${n}@example.org>\r\n\r\n`;
  const line = 'x'.repeat(78) + '\r\n';
  let body = '';
  while (head.length + body.length + line.length <= size) body += line;
  body += 'y'.repeat(size - head.length - body.length - 2) + '\r\n';
  const bytes = enc.encode(head + body);
  assert.equal(bytes.length, size);
  return bytes;
}

before(async () => {
  bed = await startTestBed({ quota: { storage: 10923847 * 1024, messages: 1000 } });
  const accountId = await accountIdOf(bed);
  await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name: 'status-example' } } }, '0']]);
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= 30; i++) bed.store.importMessage(bed.user, 'INBOX', msg(i), { receivedAt: new Date(t0 + i * 1000) });
  for (let i = 31; i <= 42; i++) bed.store.importMessage(bed.user, 'status-example', msg(i), { receivedAt: new Date(t0 + i * 1000) });
});
after(() => bed.close());

/** Replay a transcript once logged in (see replay.ts for the line syntax). */
function replay(transcript: string): Promise<void> {
  return playLoggedIn(bed.imapPort, bed.user, bed.password, transcript);
}

test('RFC 9208 §4.1.2 GETQUOTAROOT INBOX: two roots, MESSAGE 42 1000 and STORAGE 104 10923847', async () => {
  await replay(`
    C: A CAPABILITY
    S: * CAPABILITY … QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE …
    S: A OK …
    C: G0002 GETQUOTAROOT INBOX
    S: * QUOTAROOT INBOX "…" "…"
    S: * QUOTA "…" (MESSAGE 42 1000)
    S: * QUOTA "…" (STORAGE 104 10923847)
    S: G0002 OK …
  `);
});

test('RFC 9208 §4.1.1 GETQUOTA of a root named by GETQUOTAROOT; an unknown root is NO', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  const roots = (await c.command('R', 'GETQUOTAROOT INBOX'))[0]!.match(/"[^"]*"/g)!;
  c.close();
  assert.equal(roots.length, 2);
  await replay(`
    C: G0001 GETQUOTA ${roots[1]}
    S: * QUOTA ${roots[1]} (STORAGE 104 10923847)
    S: G0001 OK …
    C: G0003 GETQUOTA "!partition/sda4"
    S: G0003 NO …
  `);
});

test('RFC 9208 §4.1.3 SETQUOTA: no QUOTASET, the limit is not changed', async () => {
  await replay(`
    C: S0002 SETQUOTA "!partition/sda4" (STORAGE 99999999)
    S: S0002 NO …
    C: G GETQUOTAROOT INBOX
    S: * QUOTAROOT INBOX "…" "…"
    S: * QUOTA "…" (MESSAGE 42 1000)
    S: * QUOTA "…" (STORAGE 104 10923847)
    S: G OK …
  `);
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  assert.doesNotMatch((await c.command('C', 'CAPABILITY'))[0]!, / QUOTASET/);
  c.close();
});

test('RFC 9208 §4.1.4 STATUS DELETED and DELETED-STORAGE: 12 messages, 4 of them \\Deleted', async () => {
  await replay(`
    C: s SELECT status-example
    S: * FLAGS …
    S: * 12 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT 13] …
    S: * OK [MAILBOXID (…)] …
    S: s OK [READ-WRITE] …
    C: d STORE 1:4 +FLAGS.SILENT (\\Deleted)
    S: d OK …
    C: S0003 STATUS status-example (MESSAGES DELETED DELETED-STORAGE)
    S: * STATUS status-example (MESSAGES 12 DELETED 4 DELETED-STORAGE ${4 * SIZE})
    S: S0003 OK …
  `);
});

test('RFC 9208 §4.3.1 example 1: APPEND over quota is NO [OVERQUOTA] and stores nothing', async () => {
  bed.store.setQuota(bed.user, { messages: 42 });
  try {
    await replay(`
      C: A003 APPEND INBOX (\\Seen) {326}
      S: + …
      C: Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
      C: From: Fred Foobar <foobar@Blurdybloop.example>
      C: Subject: afternoon meeting
      C: To: mooch@owatagu.siam.edu.example
      C: Message-Id: <B27397-0100000@Blurdybloop.example>
      C: MIME-Version: 1.0
      C: Content-Type: TEXT/PLAIN; CHARSET=US-ASCII
      C:
      C: Hello Joe, do you think we can meet at 3:30 tomorrow?
      C:
      S: A003 NO [OVERQUOTA] …
      C: s STATUS INBOX (MESSAGES UIDNEXT)
      S: * STATUS INBOX (MESSAGES 30 UIDNEXT 31)
      S: s OK …
    `);
  } finally {
    bed.store.setQuota(bed.user, { messages: 1000 });
  }
});

test('RFC 9698 GETJMAPACCESS names the JMAP session resource of the same account', async () => {
  await replay(`
    C: 1 CAPABILITY
    S: * CAPABILITY … JMAPACCESS…
    S: 1 OK …
    C: 2 GETJMAPACCESS
    S: * JMAPACCESS "${bed.jmapUrl}/.well-known/jmap"
    S: 2 OK …
  `);
});

test('RFC 7889 §2/§3.2 APPENDLIMIT: advertised after login and by STATUS', async () => {
  const c = await RawClient.connect(bed.imapPort);
  const greeting = await c.line();
  assert.doesNotMatch(greeting, /APPENDLIMIT/, 'before login the backend is not known');
  const login = (await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!;
  // The embedded store's maxSizeUpload (50,000,000) is below the gateway's literal limit (64 MiB).
  assert.match(login, / APPENDLIMIT=50000000[ \]]/);
  assert.deepEqual(await c.command('S', 'STATUS INBOX (APPENDLIMIT)'), ['* STATUS INBOX (APPENDLIMIT 50000000)', 'S OK STATUS completed']);
  c.close();
});

test('RFC 8438 §3 STATUS SIZE: the sum of the RFC822.SIZE of the messages', async () => {
  const sizes = [3224, 1222, 444, 4516, 544, 922, 31126, 2423];
  const accountId = await accountIdOf(bed);
  await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name: 'frop' } } }, '0']]);
  sizes.forEach((size, i) => bed.store.importMessage(bed.user, 'frop', msg(100 + i, size), { receivedAt: new Date(Date.UTC(2024, 1, 1) + i * 1000) }));
  await replay(`
    C: A01 STATUS frop (MESSAGES SIZE UIDNEXT)
    S: * STATUS frop (MESSAGES 8 SIZE 44421 UIDNEXT …)
    S: A01 OK STATUS completed
    C: A02 SELECT "frop"
    S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)
    S: * 8 EXISTS
    S: * 0 RECENT
    S: * OK [PERMANENTFLAGS …
    S: * OK [UIDVALIDITY …
    S: * OK [UIDNEXT …
    S: * OK [MAILBOXID (…)] …
    S: A02 OK [READ-WRITE] …
    C: A03 FETCH 1:* (RFC822.SIZE)
    S: * 1 FETCH (RFC822.SIZE 3224)
    S: * 2 FETCH (RFC822.SIZE 1222)
    S: * 3 FETCH (RFC822.SIZE 444)
    S: * 4 FETCH (RFC822.SIZE 4516)
    S: * 5 FETCH (RFC822.SIZE 544)
    S: * 6 FETCH (RFC822.SIZE 922)
    S: * 7 FETCH (RFC822.SIZE 31126)
    S: * 8 FETCH (RFC822.SIZE 2423)
    S: A03 OK …
    C: A04 LIST "" frop RETURN (STATUS (MESSAGES SIZE))
    S: * LIST (…) "/" frop
    S: * STATUS frop (MESSAGES 8 SIZE 44421)
    S: A04 OK …
  `);
});
