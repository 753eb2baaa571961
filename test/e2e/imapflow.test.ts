/**
 * A real client (imapflow) over real TCP through the gateway to the embedded JMAP store over real HTTP:
 * login, LIST, SELECT INBOX, the folder listing FETCH, BODY[] byte identity, LOGOUT; cleartext on loopback, via
 * STARTTLS, and via implicit TLS (RFC 9051 §6.2.1, RFC 8314 §3.2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { ALL, BARE_LF, EIGHT_BIT, MULTIPART, SIMPLE } from '../fixtures/messages.ts';

const THUNDERBIRD_HEADERS = ['From', 'To', 'Cc', 'Bcc', 'Subject', 'Date', 'Message-ID', 'Priority', 'X-Priority', 'References', 'Newsgroups', 'In-Reply-To', 'Content-Type', 'Reply-To'];

let bed: TestBed;

before(async () => {
  bed = await startTestBed();
  const t0 = Date.UTC(2024, 0, 10, 9, 0, 0);
  ALL.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(t0 + i * 60_000), keywords: i === 1 ? ['$seen', '$flagged'] : [] }));
  bed.store.importMessage(bed.user, 'sent', SIMPLE, { receivedAt: new Date(t0) });
});
after(() => bed.close());

type Mode = 'loopback cleartext' | 'STARTTLS' | 'implicit TLS';
const MODES: Mode[] = ['loopback cleartext', 'STARTTLS', 'implicit TLS'];

function client(mode: Mode): ImapFlow {
  return new ImapFlow({
    host: bed.host,
    port: mode === 'implicit TLS' ? bed.imapsPort : bed.imapPort,
    secure: mode === 'implicit TLS',
    doSTARTTLS: mode === 'STARTTLS' ? true : mode === 'loopback cleartext' ? false : undefined,
    tls: { rejectUnauthorized: false },
    auth: { user: bed.user, pass: bed.password },
    logger: false,
  });
}

for (const mode of MODES) {
  describe(`imapflow, ${mode}`, () => {
    test('logs in, lists mailboxes with special-use attributes, selects INBOX', async () => {
      const c = client(mode);
      await c.connect();
      try {
        if (mode !== 'loopback cleartext') assert.ok(c.secureConnection, 'connection is TLS');
        const list = await c.list();
        const paths = list.map((m) => m.path);
        for (const p of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) assert.ok(paths.includes(p), `LIST shows ${p}: ${paths.join(',')}`);
        assert.equal(list.find((m) => m.path === 'Sent')?.specialUse, '\\Sent');
        const box = await c.mailboxOpen('INBOX');
        assert.equal(box.exists, ALL.length);
        assert.ok(Number(box.uidValidity) > 0);
        assert.equal(Number(box.uidNext), ALL.length + 1);
      } finally {
        await c.logout();
      }
    });

    test('folder listing FETCH (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (...)]) over all messages', async () => {
      const c = client(mode);
      await c.connect();
      try {
        await c.mailboxOpen('INBOX');
        const rows = await c.fetchAll('1:*', { uid: true, flags: true, size: true, headers: THUNDERBIRD_HEADERS });
        assert.equal(rows.length, ALL.length);
        rows.forEach((m, i) => {
          assert.equal(m.uid, i + 1, 'UIDs ascend in arrival order');
          assert.equal(m.size, ALL[i]!.length, 'RFC822.SIZE is the stored size');
        });
        assert.deepEqual([...rows[1]!.flags!].sort(), ['\\Flagged', '\\Seen']);
        assert.deepEqual([...rows[0]!.flags!], []);
        const h0 = rows[0]!.headers!.toString('latin1');
        assert.match(h0, /^Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n/m);
        assert.match(h0, /^Subject: Lunch on Friday\?\r\n/m);
        assert.doesNotMatch(h0, /Return-Path|MIME-Version/, 'only the requested fields');
        assert.ok(h0.endsWith('\r\n\r\n'), 'ends with the empty line');
        const h1 = rows[1]!.headers!.toString('latin1');
        assert.match(h1, /^Subject: =\?UTF-8\?Q\?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen\?=\r\n/m);
        assert.match(h1, /^In-Reply-To: <lunch-1@example.org>\r\n/m);
        const h3 = rows[3]!.headers!;
        const expectedFrom = Buffer.concat([Buffer.from('From: Ren'), Buffer.from([0xe9]), Buffer.from(' <rene@example.fr>\r\n')]);
        assert.ok(h3.includes(expectedFrom), '8-bit header octets come back unchanged');
      } finally {
        await c.logout();
      }
    });

    test('BODY.PEEK[] returns the stored bytes exactly (CRLF, multipart, bare LF, 8-bit headers)', async () => {
      const c = client(mode);
      await c.connect();
      try {
        await c.mailboxOpen('INBOX');
        for (const [uid, raw] of [[1, SIMPLE], [2, MULTIPART], [3, BARE_LF], [4, EIGHT_BIT]] as const) {
          const m = await c.fetchOne(String(uid), { source: true }, { uid: true });
          assert.ok(m && m.source, `message ${uid} fetched`);
          assert.ok(Buffer.from(raw).equals(m.source), `UID ${uid} bytes identical`);
        }
      } finally {
        await c.logout();
      }
    });
  });
}

test('UIDs and UIDVALIDITY are the same in a later session', async () => {
  const a = client('loopback cleartext');
  await a.connect();
  const first = await a.mailboxOpen('INBOX');
  const uidsA = (await a.fetchAll('1:*', { uid: true })).map((m) => m.uid);
  await a.logout();
  const b = client('implicit TLS');
  await b.connect();
  const second = await b.mailboxOpen('INBOX');
  const uidsB = (await b.fetchAll('1:*', { uid: true })).map((m) => m.uid);
  await b.logout();
  assert.equal(String(second.uidValidity), String(first.uidValidity));
  assert.deepEqual(uidsB, uidsA);
});
