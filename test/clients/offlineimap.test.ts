/**
 * offlineimap3 against the gateway over implicit TLS (certificate pinned with `sslcacertfile`), on both backends
 * (embedded store and Cyrus JMAP): a full sync of a 200-message account into a Maildir, changes made through JMAP (new mail, flag changes, deletions, a move) and an
 * incremental sync after which the Maildir matches the server exactly; a sync with nothing changed copies and changes
 * nothing; a flag set in the Maildir reaches the server (UID STORE, RFC 9051 §6.4.6), checked through JMAP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, FOLDERS, clientTest, type ClientBed } from './beds.ts';
import { clientAvailable, jmapEmails, jmapSet, maildirFile, makeMessage, readMaildir, run, serverFolders } from './harness.ts';

const N = 200;

function config(bed: ClientBed, dir: string): string {
  // offlineimap checks the certificate's DNS names itself (not its IP addresses): connect as "localhost".
  return `[general]
accounts = gw
metadata = ${dir}/meta
ui = basic
[Account gw]
localrepository = near
remoterepository = far
[Repository near]
type = Maildir
localfolders = ${dir}/mail
[Repository far]
type = IMAP
remotehost = localhost
remoteport = ${bed.imapsPort}
ssl = yes
sslcacertfile = ${bed.certPath}
remoteuser = ${bed.user}
remotepass = ${bed.password}
auth_mechanisms = PLAIN
`;
}

function maildir(dir: string): Map<string, Map<string, string>> {
  return new Map(FOLDERS.map((f) => [f, readMaildir(join(dir, 'mail', f))]));
}

function assertSameAsServer(local: Map<string, Map<string, string>>, server: Map<string, Map<string, string>>, when: string): void {
  assert.deepEqual([...server.keys()].sort(), [...FOLDERS].sort(), `${when}: server folders`);
  for (const f of FOLDERS) assert.deepEqual([...local.get(f)!].sort(), [...server.get(f)!].sort(), `${when}: ${f} (Message-ID, flags) match the server`);
}

if (clientAvailable('offlineimap', ['offlineimap'])) for (const backend of backends('offlineimap')) {
  clientTest(`offlineimap over ${backend}: full sync of 210 messages, JMAP-side changes, incremental sync, no-op sync, a local flag pushed`, backend, 90_000, async (bed) => {
    const dir = mkdtempSync(join(tmpdir(), 'offlineimap-'));
    try {
      await bed.seed('INBOX', Array.from({ length: N }, (_, i) => makeMessage('inbox', i)),
        (i) => [i % 3 === 0 ? '$seen' : '', i % 10 === 0 ? '$flagged' : '', i % 17 === 0 ? '$answered' : ''].filter(Boolean));
      await bed.seed('Archive', Array.from({ length: 10 }, (_, i) => makeMessage('archive', i)), () => ['$seen']);
      writeFileSync(join(dir, 'offlineimaprc'), config(bed, dir));
      const sync = async (what: string): Promise<string> => {
        const r = await run('offlineimap', ['-c', join(dir, 'offlineimaprc'), '-o', '-u', 'basic'], { timeoutMs: 45_000 });
        const out = r.stdout + r.stderr;
        assert.equal(r.code, 0, `${what}: offlineimap exit status\n${out.slice(-3000)}`);
        assert.doesNotMatch(out, /ERROR|Traceback/, `${what}: offlineimap reported an error\n${out.slice(-3000)}`);
        return out;
      };

      // 1. Full sync.
      const full = await sync('full sync');
      assert.equal(full.match(/^Copy message UID \d+ .* far:INBOX -> near:INBOX/gm)?.length, N, 'every INBOX message copied once');
      assertSameAsServer(maildir(dir), await serverFolders(bed), 'after the full sync');
      assert.equal(maildir(dir).get('INBOX')!.get('<inbox.51@clients.test>'), 'RS', '\\Answered \\Seen -> R S letters');

      // 2. Changes made through JMAP.
      const { emails, boxId } = await jmapEmails(bed);
      const id = (mid: string): string => emails.find((e) => e.messageId === mid)!.id;
      await bed.seed('INBOX', Array.from({ length: 3 }, (_, i) => makeMessage('new', i)), (i) => (i === 0 ? ['$flagged'] : []));
      await jmapSet(bed, {
        [id('<inbox.1@clients.test>')]: { 'keywords/$flagged': true },
        [id('<inbox.3@clients.test>')]: { 'keywords/$seen': null },
        [id('<inbox.6@clients.test>')]: { mailboxIds: { [boxId.get('Archive')!]: true } },
      }, [id('<inbox.4@clients.test>'), id('<archive.2@clients.test>')]);

      // 3. Incremental sync.
      await sync('incremental sync');
      const after = maildir(dir);
      assertSameAsServer(after, await serverFolders(bed), 'after the incremental sync');
      const inbox = after.get('INBOX')!;
      assert.equal(inbox.size, N + 3 - 1 - 1);
      assert.equal(inbox.get('<inbox.1@clients.test>'), 'F');
      assert.equal(inbox.get('<inbox.3@clients.test>'), '');
      assert.equal(inbox.get('<new.0@clients.test>'), 'F');
      assert.equal(inbox.has('<inbox.4@clients.test>'), false);
      assert.equal(after.get('Archive')!.get('<inbox.6@clients.test>'), 'S', 'the moved message is in Archive');
      assert.equal(after.get('Archive')!.has('<archive.2@clients.test>'), false);

      // 4. Nothing changed: nothing copied, no flag or deletion in either direction.
      const noop = await sync('no-op sync');
      assert.doesNotMatch(noop, /^(Copy message|Adding flag|Deleting flag|Deleting \d+ messages)/m, `a sync with no changes does nothing\n${noop}`);
      assert.match(noop, /Syncing INBOX: IMAP -> Maildir/, 'it did sync INBOX');

      // 5. A flag set in the Maildir reaches the server.
      const file = maildirFile(join(dir, 'mail', 'INBOX'), '<inbox.7@clients.test>');
      assert.doesNotMatch(file, /:2,[A-Z]/, 'inbox.7 starts without flags');
      renameSync(file, file.replace(/\/new\//, '/cur/').replace(/(:2,)?$/, ':2,F'));
      const push = await sync('push sync');
      assert.match(push, /Adding flag F to 1 messages on INBOX/);
      const seven = (await jmapEmails(bed)).emails.find((e) => e.messageId === '<inbox.7@clients.test>')!;
      assert.deepEqual(Object.keys(seven.keywords), ['$flagged'], 'the local flag reached JMAP');
      assertSameAsServer(maildir(dir), await serverFolders(bed), 'after the push sync');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
