/**
 * The gateway over Cyrus IMAP 3.6's real JMAP server (RFC 8620/8621): real clients (imapflow, a raw byte-level
 * client) through the gateway to Cyrus. Login, LIST with special-use from Cyrus's roles (RFC 6154), SELECT, the
 * Thunderbird folder-listing FETCH, BODY[] byte identity, IDLE through the polling fallback (Cyrus's EventSource
 * answers 204), UIDs stable across sessions, a new UID for a message whose Email id comes back (Cyrus derives ids
 * from content; RFC 9051 §2.3.1.1), and the write commands (STORE, COPY, MOVE, APPEND, EXPUNGE) verified in JMAP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL, BARE_LF, MULTIPART } from '../fixtures/messages.ts';

const THUNDERBIRD = 'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])';
const POLL_MS = 400;
const enc = new TextEncoder();
/** Cyrus refuses bare-LF messages (`invalidEmail`, "Message contains bare newlines"): seeded without that fixture. */
const SEED = ALL.filter((m) => m !== BARE_LF);

/** A fresh message each call (Cyrus would merge identical ones into one Email id). */
let serial = 0;
function fresh(subject: string): Uint8Array {
  serial++;
  return enc.encode(`From: Eve <eve@example.org>\r\nTo: testuser@localhost\r\nSubject: ${subject}\r\nDate: Thu, 4 Jan 2024 10:00:00 +0000\r\nMessage-ID: <fresh-${serial}-${Date.now()}@example.org>\r\n\r\nbody ${serial}\r\n`);
}

if (cyrusAvailable('cyrus-scenarios')) {
  describe('gateway over Cyrus JMAP', () => {
    let bed: CyrusBed;
    let seeded: Uint8Array[];
    let roles: Record<string, string>;

    before(async () => {
      bed = await startCyrusBed({ gateway: { watch: { pollIntervalMs: POLL_MS } } });
      const r = await bed.jmap.one('Mailbox/set', {
        create: { s: { name: 'Sent', role: 'sent' }, a: { name: 'Archive', role: 'archive' }, t: { name: 'Trash', role: 'trash' } },
      });
      const created = r.created as Record<string, { id: string }>;
      roles = { inbox: await bed.jmap.mailboxIdByRole('inbox'), sent: created.s!.id, archive: created.a!.id, trash: created.t!.id };
      seeded = (await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, SEED, { keywords: (i) => (i === 1 ? ['$seen', '$flagged'] : []) })).messages;
    });
    after(() => bed?.close());

    function flow(): ImapFlow {
      return new ImapFlow({ host: '127.0.0.1', port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false });
    }

    async function raw(): Promise<RawClient> {
      const c = await RawClient.connect(bed.imapPort);
      assert.match(await c.line(), /^\* OK /);
      const r = await c.command('l', `LOGIN ${bed.user} ${bed.password}`);
      assert.match(r.at(-1)!, /^l OK /);
      return c;
    }

    /** UID and Message-ID of every INBOX message, through the gateway. */
    async function uidsByMessageId(c: ImapFlow): Promise<Map<string, number>> {
      const out = new Map<string, number>();
      for await (const m of c.fetch('1:*', { uid: true, envelope: false, headers: ['message-id'] })) {
        out.set(m.headers!.toString('latin1').trim(), m.uid);
      }
      return out;
    }

    test('imapflow logs in; LIST shows Cyrus roles as special-use; SELECT counts what JMAP holds', async () => {
      const c = flow();
      await c.connect();
      try {
        const list = await c.list();
        const byPath = new Map(list.map((m) => [m.path, m.specialUse] as const));
        assert.ok(byPath.has('INBOX'), [...byPath.keys()].join(','));
        assert.equal(byPath.get('Sent'), '\\Sent');
        assert.equal(byPath.get('Archive'), '\\Archive');
        assert.equal(byPath.get('Trash'), '\\Trash');
        const box = await c.mailboxOpen('INBOX');
        assert.equal(box.exists, seeded.length);
        assert.ok(Number(box.uidValidity) > 0);
        assert.equal(Number(box.uidNext), seeded.length + 1);
      } finally {
        await c.logout();
      }
    });

    test('a wrong password is NO [AUTHENTICATIONFAILED] (Cyrus answers 401 to the session fetch)', async () => {
      const c = await RawClient.connect(bed.imapPort);
      await c.line();
      const r = await c.command('a', `LOGIN ${bed.user} wrong-password`);
      assert.match(r.at(-1)!, /^a NO \[AUTHENTICATIONFAILED\]/);
      c.close();
    });

    test("Thunderbird's folder listing FETCH answers every message with its size, flags and header fields", async () => {
      const c = await raw();
      const sel = await c.command('s', 'SELECT INBOX');
      assert.ok(sel.includes(`* ${seeded.length} EXISTS`), sel.join('\n'));
      c.write(`f ${THUNDERBIRD}\r\n`);
      const lines = await c.until('f');
      assert.match(lines.at(-1)!, /^f OK /);
      const starts = lines.filter((l) => /^\* \d+ FETCH /.test(l));
      assert.equal(starts.length, seeded.length);
      starts.forEach((l, i) => {
        assert.match(l, new RegExp(`^\\* ${i + 1} FETCH \\(UID ${i + 1} RFC822\\.SIZE ${seeded[i]!.length} FLAGS \\(([^)]*)\\) BODY\\[HEADER\\.FIELDS \\(From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To\\)\\] \\{\\d+\\}$`));
      });
      assert.match(starts[1]!, /FLAGS \((\\Seen \\Flagged|\\Flagged \\Seen)\)/);
      c.close();
    });

    test('BODY.PEEK[] is byte for byte what was imported into Cyrus (8-bit headers included)', async () => {
      const c = flow();
      await c.connect();
      try {
        await c.mailboxOpen('INBOX', { readOnly: true });
        for (let uid = 1; uid <= seeded.length; uid++) {
          const m = await c.fetchOne(String(uid), { source: true, size: true }, { uid: true });
          assert.ok(m, `UID ${uid}`);
          assert.equal(m.size, seeded[uid - 1]!.length);
          assert.deepEqual(new Uint8Array(m.source!), seeded[uid - 1], `UID ${uid} bytes`);
        }
      } finally {
        await c.logout();
      }
    });

    test('UIDs are stable across sessions and after changes made in JMAP', async () => {
      const a = flow();
      await a.connect();
      await a.mailboxOpen('INBOX', { readOnly: true });
      const first = await uidsByMessageId(a);
      await a.logout();
      await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [fresh('stable-uids')], { receivedAt: () => '2025-01-01T00:00:00Z' });
      const b = flow();
      await b.connect();
      await b.mailboxOpen('INBOX', { readOnly: true });
      const second = await uidsByMessageId(b);
      await b.logout();
      for (const [mid, uid] of first) assert.equal(second.get(mid), uid, `UID of ${mid}`);
      assert.equal(second.size, first.size + 1);
      assert.ok(Math.max(...second.values()) > Math.max(...first.values()), 'the new message got a UID above all others');
    });

    test('IDLE over Cyrus falls back to polling (EventSource answers 204) and reports a JMAP import as EXISTS', async () => {
      const c = await raw();
      const sel = await c.command('s', 'SELECT INBOX');
      const exists = Number(sel.find((l) => /^\* \d+ EXISTS$/.test(l))!.split(' ')[1]);
      c.write('i IDLE\r\n');
      assert.match(await c.line(), /^\+ /);
      const t0 = Date.now();
      await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [fresh('idle')], { receivedAt: () => '2025-02-01T00:00:00Z' });
      assert.equal(await c.line(POLL_MS * 8), `* ${exists + 1} EXISTS`);
      const waited = Date.now() - t0;
      assert.equal(bed.gateway.config.changeHub.modeOf(bed.accountKey), 'poll', 'no push from Cyrus: the watcher polls');
      c.write('DONE\r\n');
      assert.match(await c.line(), /^i OK /);
      c.close();
      assert.ok(waited < POLL_MS * 8, `EXISTS after ${waited} ms`);
    });

    describe('an Email id that comes back gets a new UID (RFC 9051 §2.3.1.1)', () => {
      async function uidOf(c: RawClient, tag: string, subject: string): Promise<number | undefined> {
        const r = await c.command(tag, 'UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])');
        const i = r.findIndex((l) => l.startsWith(`Subject: ${subject}`));
        if (i < 1) return undefined;
        return Number(/UID (\d+)/.exec(r[i - 1]!)![1]);
      }

      test('destroyed in JMAP, then the same bytes imported again: Cyrus reuses the id, the gateway does not reuse the UID', async () => {
        const msg = fresh('comes-back-destroy');
        const c = await raw();
        await c.command('s', 'SELECT INBOX');
        const { ids: [id1] } = await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [msg], { receivedAt: () => '2025-03-01T00:00:00Z' });
        await c.command('n1', 'NOOP');
        const uid1 = await uidOf(c, 'f1', 'comes-back-destroy');
        assert.ok(uid1, 'seen through the gateway');
        const d = await bed.jmap.one('Email/set', { destroy: [id1] });
        assert.deepEqual(d.destroyed, [id1]);
        const n2 = await c.command('n2', 'NOOP');
        assert.ok(n2.some((l) => /^\* \d+ EXPUNGE$/.test(l)), n2.join('\n'));
        const { ids: [id2] } = await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [msg], { receivedAt: () => '2025-03-01T00:00:00Z' });
        assert.equal(id2, id1, 'Cyrus derives the Email id from the content');
        await c.command('n3', 'NOOP');
        const uid2 = await uidOf(c, 'f2', 'comes-back-destroy');
        assert.ok(uid2 && uid2 > uid1!, `new UID ${uid2} > old ${uid1}`);
        c.close();
      });

      test('moved out in JMAP and moved back: a new UID in INBOX', async () => {
        const c = await raw();
        await c.command('s', 'SELECT INBOX');
        const { ids: [id] } = await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [fresh('comes-back-move')], { receivedAt: () => '2025-03-02T00:00:00Z' });
        await c.command('n1', 'NOOP');
        const uid1 = await uidOf(c, 'f1', 'comes-back-move');
        assert.ok(uid1);
        await bed.jmap.one('Email/set', { update: { [id!]: { mailboxIds: { [roles.archive!]: true } } } });
        const n2 = await c.command('n2', 'NOOP');
        assert.ok(n2.some((l) => /^\* \d+ EXPUNGE$/.test(l)), n2.join('\n'));
        await bed.jmap.one('Email/set', { update: { [id!]: { mailboxIds: { [roles.inbox!]: true } } } });
        await c.command('n3', 'NOOP');
        const uid2 = await uidOf(c, 'f2', 'comes-back-move');
        assert.ok(uid2 && uid2 > uid1!, `new UID ${uid2} > old ${uid1}`);
        c.close();
      });
    });

    describe('write commands, verified through JMAP', () => {
      /** Keywords and mailboxIds of an email, by Message-ID-free lookup on Subject. */
      async function emailBySubject(subject: string): Promise<Array<{ id: string; keywords: Record<string, boolean>; mailboxIds: Record<string, boolean> }>> {
        const q = await bed.jmap.one('Email/query', { filter: { header: ['Subject', subject] } });
        const ids = q.ids as string[];
        if (ids.length === 0) return [];
        const g = await bed.jmap.one('Email/get', { ids, properties: ['id', 'keywords', 'mailboxIds', 'subject'] });
        return (g.list as Array<{ id: string; subject: string; keywords: Record<string, boolean>; mailboxIds: Record<string, boolean> }>).filter((e) => e.subject === subject);
      }

      test('STORE +FLAGS / -FLAGS become JMAP keywords', async () => {
        await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [fresh('store-me')], { receivedAt: () => '2025-04-01T00:00:00Z' });
        const c = await raw();
        await c.command('s', 'SELECT INBOX');
        const f = await c.command('f', 'UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])');
        const i = f.findIndex((l) => l.startsWith('Subject: store-me'));
        const uid = Number(/UID (\d+)/.exec(f[i - 1]!)![1]);
        const r = await c.command('t', `UID STORE ${uid} +FLAGS (\\Flagged \\Answered $Forwarded)`);
        assert.match(r.at(-1)!, /^t OK /);
        let [e] = await emailBySubject('store-me');
        assert.deepEqual(Object.keys(e!.keywords).map((k) => k.toLowerCase()).sort(), ['$answered', '$flagged', '$forwarded']);
        const r2 = await c.command('u', `UID STORE ${uid} -FLAGS (\\Answered)`);
        assert.match(r2.at(-1)!, /^u OK /);
        [e] = await emailBySubject('store-me');
        assert.deepEqual(Object.keys(e!.keywords).map((k) => k.toLowerCase()).sort(), ['$flagged', '$forwarded']);
        c.close();
      });

      test('COPY and MOVE to Archive change mailboxIds in Cyrus; COPYUID names the new UIDs', async () => {
        await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [fresh('copy-me'), fresh('move-me')], { receivedAt: (i) => `2025-04-02T00:00:0${i}Z` });
        const c = await raw();
        await c.command('s', 'SELECT INBOX');
        const f = await c.command('f', 'UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])');
        const uidFor = (s: string) => Number(/UID (\d+)/.exec(f[f.findIndex((l) => l.startsWith(`Subject: ${s}`)) - 1]!)![1]);
        const cp = await c.command('c', `UID COPY ${uidFor('copy-me')} Archive`);
        assert.match(cp.at(-1)!, /^c OK \[COPYUID \d+ \d+ \d+\]/);
        const [copied] = await emailBySubject('copy-me');
        assert.deepEqual(Object.keys(copied!.mailboxIds).sort(), [roles.inbox!, roles.archive!].sort());
        const mv = await c.command('m', `UID MOVE ${uidFor('move-me')} Archive`);
        assert.ok(mv.some((l) => /^\* OK \[COPYUID \d+ \d+ \d+\]/.test(l)), mv.join('\n'));
        assert.ok(mv.some((l) => /^\* \d+ EXPUNGE$/.test(l)), mv.join('\n'));
        assert.match(mv.at(-1)!, /^m OK /);
        const [moved] = await emailBySubject('move-me');
        assert.deepEqual(Object.keys(moved!.mailboxIds), [roles.archive!]);
        c.close();
      });

      test('APPEND stores the exact bytes in Cyrus (with flags) and answers APPENDUID', async () => {
        const msg = fresh('appended');
        const c = await raw();
        c.write(`a APPEND Sent (\\Seen) {${msg.length}+}\r\n`);
        c.write(msg);
        c.write('\r\n');
        const r = await c.until('a');
        assert.match(r.at(-1)!, /^a OK \[APPENDUID \d+ 1\]/);
        const [e] = await emailBySubject('appended');
        assert.ok(e, 'in JMAP');
        assert.deepEqual(Object.keys(e.mailboxIds), [roles.sent!]);
        assert.deepEqual(Object.keys(e.keywords), ['$seen']);
        const g = await bed.jmap.one('Email/get', { ids: [e.id], properties: ['blobId', 'size'] });
        assert.equal((g.list as Array<{ size: number }>)[0]!.size, msg.length);
        c.close();
      });

      test('\\Deleted + EXPUNGE removes the message from Cyrus', async () => {
        await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [fresh('expunge-me')], { receivedAt: () => '2025-04-03T00:00:00Z' });
        const c = await raw();
        await c.command('s', 'SELECT INBOX');
        const f = await c.command('f', 'UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])');
        const i = f.findIndex((l) => l.startsWith('Subject: expunge-me'));
        const seq = Number(/^\* (\d+) FETCH/.exec(f[i - 1]!)![1]);
        const uid = Number(/UID (\d+)/.exec(f[i - 1]!)![1]);
        await c.command('d', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
        assert.equal((await emailBySubject('expunge-me')).length, 1, '\\Deleted alone changes nothing in JMAP');
        const x = await c.command('x', 'EXPUNGE');
        assert.ok(x.includes(`* ${seq} EXPUNGE`), x.join('\n'));
        assert.equal((await emailBySubject('expunge-me')).length, 0, 'gone from Cyrus');
        c.close();
      });
    });

    test('a second message of identical bytes: Cyrus has one Email id for both imports', async () => {
      // Documented quirk (expectations-cyrus.json `content-derived-ids`): seeding must deduplicate.
      const j = bed.jmap;
      const blobId = await j.upload(MULTIPART);
      const r = await j.one('Email/import', { emails: { x: { blobId, mailboxIds: { [roles.trash!]: true }, keywords: {} } } });
      const existing = (await bed.jmap.one('Email/query', { filter: { inMailbox: roles.inbox!, header: ['Message-ID', '<munich-2@example.net>'] } })).ids as string[];
      const created = (r.created as Record<string, { id: string }> | null)?.x?.id ?? (r.notCreated as Record<string, { existingId?: string }>)?.x?.existingId;
      assert.equal(created, existing[0]);
    });

    test('APPEND of a message Cyrus refuses (bare LF line ends) is a clean NO, and nothing is stored', async () => {
      const c = await raw();
      const before = ((await bed.jmap.one('Email/query', { filter: { inMailbox: roles.archive! } })).ids as string[]).length;
      c.write(`a APPEND Archive {${BARE_LF.length}+}\r\n`);
      c.write(BARE_LF);
      c.write('\r\n');
      const r = await c.until('a');
      assert.match(r.at(-1)!, /^a NO \[CANNOT\] /);
      const after = ((await bed.jmap.one('Email/query', { filter: { inMailbox: roles.archive! } })).ids as string[]).length;
      assert.equal(after, before);
      const n = await c.command('n', 'NOOP');
      assert.match(n.at(-1)!, /^n OK /, 'the session goes on');
      c.close();
    });
  });
}
