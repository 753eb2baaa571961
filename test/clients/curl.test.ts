/**
 * curl's IMAP client (RFC 5092 URLs) against the gateway on both backends (embedded store and Cyrus JMAP) over
 * STARTTLS (`--ssl-reqd`: curl refuses to go on in cleartext; the gateway's certificate is verified with `--cacert`):
 * LIST, SEARCH, FETCH a message by UID (byte for byte as stored) and APPEND by upload (`-T`), each checked against
 * the JMAP store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, clientTest } from './beds.ts';
import { clientAvailable, jmapEmails, makeMessage, messageIdOf, run } from './harness.ts';

if (clientAvailable('curl', ['curl'])) for (const backend of backends('curl')) {
  clientTest(`curl over STARTTLS, ${backend}: LIST, SEARCH, FETCH by UID, APPEND upload`, backend, 60_000, async (bed) => {
    const dir = mkdtempSync(join(tmpdir(), 'curl-'));
    const url = (path: string): string => `imap://127.0.0.1:${bed.imapPort}/${path}`;
    const curl = async (path: string, extra: string[] = []): Promise<{ out: string; trace: string }> => {
      const r = await run('curl', ['-sS', '-v', '--max-time', '15', '--ssl-reqd', '--cacert', bed.certPath, '-u', `${bed.user}:${bed.password}`, url(path), ...extra], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, `curl ${path} ${extra.join(' ')}: exit ${r.code}\n${r.stderr.slice(-2000)}`);
      return { out: r.stdout, trace: r.stderr };
    };
    try {
      const raws = Array.from({ length: 12 }, (_, i) => makeMessage('curl', i, i % 4 === 1 ? `needle in message ${i}` : `hay ${i}`));
      await bed.seed('INBOX', raws);

      // LIST: every JMAP mailbox, with its role as a special-use attribute (RFC 6154 §2).
      const list = await curl('');
      assert.match(list.trace, /> \S+ STARTTLS\r?\n/, 'curl upgraded with STARTTLS');
      const auth = /^> \S+ (LOGIN|AUTHENTICATE) /m.exec(list.trace);
      assert.ok(auth && auth.index > list.trace.indexOf(' STARTTLS'), 'credentials only after STARTTLS');
      const [[, boxes]] = await bed.jmap([['Mailbox/get', { accountId: bed.accountId, ids: null }, 'm']]) as [[string, { list: Array<{ name: string; role: string | null }> }, string]];
      const special: Record<string, string> = { sent: '\\Sent', drafts: '\\Drafts', trash: '\\Trash', junk: '\\Junk', archive: '\\Archive' };
      for (const b of boxes.list) {
        const name = b.role === 'inbox' ? 'INBOX' : b.name;
        const line = list.out.split(/\r?\n/).find((l) => l.endsWith(` "/" ${name}`));
        assert.ok(line, `LIST shows ${name}`);
        if (b.role && special[b.role]) assert.ok(line.includes(special[b.role]!), `${name} carries ${special[b.role]}`);
      }
      assert.equal(list.out.split(/\r?\n/).filter((l) => l.startsWith('* LIST ')).length, boxes.list.length);

      // SEARCH (RFC 5092 `?<search>`): the sequence numbers of exactly the three "needle" messages.
      const found = await curl('INBOX?SUBJECT%20needle');
      const seqs = /^\* SEARCH((?: \d+)*)\r?$/m.exec(found.out)?.[1]!.trim().split(' ').map(Number);
      assert.equal(seqs?.length, 3, `three matches: ${found.out}`);
      const hits = await Promise.all(seqs!.map(async (n) => messageIdOf((await curl(`INBOX;MAILINDEX=${n}`)).out)));
      assert.deepEqual(hits.sort(), ['<curl.1@clients.test>', '<curl.5@clients.test>', '<curl.9@clients.test>']);

      // FETCH by UID (RFC 5092 `;UID=`): the message exactly as stored.
      const uidOut = await curl('INBOX', ['-X', 'UID SEARCH HEADER Message-ID <curl.7@clients.test>']);
      const uid = /^\* SEARCH (\d+)\r?$/m.exec(uidOut.out)?.[1];
      assert.ok(uid, `UID SEARCH found curl.7: ${uidOut.out}`);
      const body = await curl(`INBOX;UID=${uid}`);
      assert.equal(body.out, Buffer.from(raws[7]!).toString('latin1'), 'BODY[] byte for byte');

      // APPEND (curl -T): the uploaded message lands in Sent, byte-exact size, with the \Seen curl asks for.
      const upload = 'From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: uploaded by curl\r\nMessage-ID: <upload.1@clients.test>\r\n\r\nHello from curl -T.\r\n';
      writeFileSync(join(dir, 'up.eml'), upload);
      const app = await curl('Sent', ['-T', join(dir, 'up.eml')]);
      assert.match(app.trace, /> \S+ APPEND Sent \(\\Seen\) \{\d+\}/, 'curl sent APPEND');
      assert.match(app.trace, /< \S+ OK \[APPENDUID \d+ \d+\]/, 'UIDPLUS APPENDUID (RFC 4315 §3)');
      const { emails, boxId } = await jmapEmails(bed);
      const up = emails.find((e) => e.messageId === '<upload.1@clients.test>');
      assert.ok(up, 'the upload is in the JMAP store');
      assert.deepEqual(Object.keys(up.mailboxIds), [boxId.get('Sent')!]);
      assert.deepEqual(Object.keys(up.keywords), ['$seen']);
      const [[, got]] = await bed.jmap([['Email/get', { accountId: bed.accountId, ids: [up.id], properties: ['size', 'subject'] }, 'g']]) as [[string, { list: Array<{ size: number; subject: string }> }, string]];
      assert.deepEqual(got.list[0], { id: up.id, size: upload.length, subject: 'uploaded by curl' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
