/**
 * mbsync (isync 1.4) against the gateway over implicit TLS, on both backends (the embedded store: 1,000+ messages;
 * Cyrus JMAP: 150, to keep the suite fast): a full sync of the account into a Maildir,
 * then changes made through JMAP (new mail, flag changes, deletions, a move) and an incremental sync; the Maildir
 * must match the server exactly (Message-IDs per folder, flags in the file names' `:2,` info). A sync with nothing
 * changed transfers no message. Then the push direction: a flag set and a message deleted in the Maildir reach the
 * server (UID STORE, \Deleted + EXPUNGE: RFC 9051 §6.4.6, §6.4.3), checked through JMAP.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, FOLDERS, clientTest, type Backend, type ClientBed } from './beds.ts';
import { clientAvailable, jmapEmails, jmapSet, maildirFile, makeMessage, readMaildir, run, serverFolders, type RunResult } from './harness.ts';

/** INBOX size per backend. */
const SIZE: Record<Backend, number> = { embedded: 1000, cyrus: 150 };

function config(bed: ClientBed, dir: string): string {
  return `IMAPAccount gw
Host 127.0.0.1
Port ${bed.imapsPort}
User ${bed.user}
Pass "${bed.password}"
SSLType IMAPS
CertificateFile ${bed.certPath}
AuthMechs PLAIN

IMAPStore gw-far
Account gw

MaildirStore gw-near
Path ${dir}/mail/
Inbox ${dir}/mail/INBOX
SubFolders Verbatim

Channel gw
Far :gw-far:
Near :gw-near:
Patterns *
Create Both
Expunge Both
SyncState *
`;
}

/** The whole account as mbsync left it on disk. */
function maildir(dir: string): Map<string, Map<string, string>> {
  return new Map(FOLDERS.map((f) => [f, readMaildir(join(dir, 'mail', f))]));
}

function assertSameAsServer(local: Map<string, Map<string, string>>, server: Map<string, Map<string, string>>, when: string): void {
  assert.deepEqual([...server.keys()].sort(), [...FOLDERS].sort(), `${when}: server folders`);
  for (const f of FOLDERS) {
    const want = [...server.get(f)!].sort();
    const got = [...local.get(f)!].sort();
    assert.equal(got.length, want.length, `${when}: ${f} holds ${want.length} messages locally`);
    assert.deepEqual(got, want, `${when}: ${f} (Message-ID, flags) match the server`);
  }
}

/** The IMAP commands mbsync sent (its -Dn network trace: `>>> tag COMMAND ...`, pipelined ones after `(n in progress) `). */
function commandsSent(r: RunResult): string[] {
  return (r.stdout + r.stderr).split(/\r?\n/).flatMap((l) => /(?:^|\) )>>> (.*)$/.exec(l)?.[1] ?? []);
}

if (clientAvailable('mbsync', ['mbsync'])) for (const backend of backends('mbsync')) {
  const N = SIZE[backend];
  clientTest(`mbsync over ${backend}: full sync of ${N + 23} messages, JMAP-side changes, incremental sync, no-op sync, local changes pushed`, backend, 90_000, async (bed) => {
    const dir = mkdtempSync(join(tmpdir(), 'mbsync-'));
    try {
      await bed.seed('INBOX', Array.from({ length: N }, (_, i) => makeMessage('inbox', i)),
        (i) => [i % 3 === 0 ? '$seen' : '', i % 10 === 0 ? '$flagged' : '', i % 17 === 0 ? '$answered' : ''].filter(Boolean));
      await bed.seed('Archive', Array.from({ length: 20 }, (_, i) => makeMessage('archive', i)), () => ['$seen']);
      await bed.seed('Drafts', Array.from({ length: 3 }, (_, i) => makeMessage('draft', i)), () => ['$draft', '$seen']);
      mkdirSync(join(dir, 'mail'));
      writeFileSync(join(dir, 'mbsyncrc'), config(bed, dir));
      const sync = async (what: string): Promise<RunResult> => {
        const t0 = Date.now();
        const r = await run('mbsync', ['-c', join(dir, 'mbsyncrc'), '-a', '-Dn'], { timeoutMs: 45_000 });
        assert.equal(r.code, 0, `${what}: mbsync exit status\n${r.stderr.slice(-3000)}`);
        if (process.env.DEBUG_CLIENTS) console.log(`--- ${what} (${Date.now() - t0} ms)\n${commandsSent(r).slice(0, 40).join('\n')}`); // DEBUG_CLIENTS=1: timings and commands
        return r;
      };

      // 1. Full sync.
      const full = await sync('full sync');
      const fetched = commandsSent(full).filter((c) => /UID FETCH \S+ \(.*BODY\.PEEK\[\]/.test(c));
      assert.ok(fetched.length > 0, 'the full sync downloaded message bodies');
      assertSameAsServer(maildir(dir), await serverFolders(bed), 'after the full sync');
      assert.equal(maildir(dir).get('INBOX')!.size, N);
      assert.equal(maildir(dir).get('INBOX')!.get('<inbox.30@clients.test>'), 'FS', '\\Seen \\Flagged -> F S letters');

      // 2. Changes made through JMAP, as a webmail would.
      const { emails, boxId } = await jmapEmails(bed);
      const id = (mid: string): string => emails.find((e) => e.messageId === mid)!.id;
      await bed.seed('INBOX', Array.from({ length: 5 }, (_, i) => makeMessage('new', i)));
      await jmapSet(bed, {
        [id('<inbox.1@clients.test>')]: { 'keywords/$flagged': true },
        [id('<inbox.3@clients.test>')]: { 'keywords/$seen': null },
        [id('<inbox.2@clients.test>')]: { 'keywords/$seen': true, 'keywords/$answered': true },
        [id('<inbox.6@clients.test>')]: { mailboxIds: { [boxId.get('Archive')!]: true } },
        [id('<archive.0@clients.test>')]: { 'keywords/$seen': null },
      }, [id('<inbox.4@clients.test>'), id('<inbox.5@clients.test>')]);

      // 3. Incremental sync: the Maildir matches the server again.
      await sync('incremental sync');
      const after = maildir(dir);
      assertSameAsServer(after, await serverFolders(bed), 'after the incremental sync');
      const inbox = after.get('INBOX')!;
      assert.equal(inbox.size, N + 5 - 2 - 1, 'five new, two deleted, one moved away');
      assert.equal(inbox.get('<inbox.1@clients.test>'), 'F');
      assert.equal(inbox.get('<inbox.2@clients.test>'), 'RS');
      assert.equal(inbox.get('<inbox.3@clients.test>'), '', 'inbox.3 lost \\Seen');
      assert.equal(inbox.has('<inbox.4@clients.test>') || inbox.has('<inbox.5@clients.test>') || inbox.has('<inbox.6@clients.test>'), false);
      assert.equal(inbox.get('<new.4@clients.test>'), '');
      assert.equal(after.get('Archive')!.get('<inbox.6@clients.test>'), 'S', 'the moved message is in Archive with its flags');
      assert.equal(after.get('Archive')!.get('<archive.0@clients.test>'), '');

      // 4. Nothing changed: no message moves in either direction.
      const files = (): string[] => FOLDERS.flatMap((f) => ['cur', 'new'].flatMap((s) => readdirSync(join(dir, 'mail', f, s)))).sort();
      const before = files();
      const noop = commandsSent(await sync('no-op sync'));
      assert.deepEqual(noop.filter((c) => /BODY\.PEEK\[|APPEND|STORE|EXPUNGE|COPY|MOVE/.test(c)), [], 'a sync with no changes transfers and changes nothing');
      assert.ok(noop.some((c) => /^\d+ UID FETCH .*FLAGS/.test(c)), 'it did look at the server');
      assert.deepEqual(files(), before, 'no file in the Maildir changed');

      // 5. Push direction: flag one message and delete another in the Maildir.
      const flagged = maildirFile(join(dir, 'mail', 'INBOX'), '<inbox.7@clients.test>');
      assert.doesNotMatch(flagged, /:2,[A-Z]/, 'inbox.7 starts without flags');
      renameSync(flagged, flagged.replace(/\/new\//, '/cur/').replace(/(:2,)?$/, ':2,FS'));
      unlinkSync(maildirFile(join(dir, 'mail', 'INBOX'), '<inbox.8@clients.test>'));
      const push = commandsSent(await sync('push sync'));
      assert.ok(push.some((c) => /UID STORE \d+ \+FLAGS\.SILENT \(.*\\Flagged/.test(c)), 'mbsync stored \\Flagged');
      assert.ok(push.some((c) => /UID STORE \d+ \+FLAGS\.SILENT \(\\Deleted\)/.test(c)), 'mbsync marked the deleted message \\Deleted');
      assert.ok(push.some((c) => /^\d+ (CLOSE|EXPUNGE|UID EXPUNGE)/.test(c)), 'mbsync expunged');
      const server = await jmapEmails(bed);
      const seven = server.emails.find((e) => e.messageId === '<inbox.7@clients.test>')!;
      assert.deepEqual(Object.keys(seven.keywords).sort(), ['$flagged', '$seen'], 'the local flags reached JMAP');
      assert.equal(server.emails.some((e) => e.messageId === '<inbox.8@clients.test>'), false, 'the local deletion reached JMAP');
      assertSameAsServer(maildir(dir), await serverFolders(bed), 'after the push sync');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
