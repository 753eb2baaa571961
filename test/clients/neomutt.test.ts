/**
 * neomutt, driven in tmux (send-keys / capture-pane) as a person would use it, against the gateway on both backends
 * (embedded store and Cyrus JMAP) over implicit TLS, with the gateway's certificate trusted through `certificate_file`
 * and the host name checked (`ssl_verify_host`):
 * the INBOX index lists the seeded subjects, the pager shows a message's body, and flagging (F), deleting (d) with
 * a save to another mailbox (s, a move) and a mailbox sync ($) reach the JMAP store; q quits.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, clientTest, type ClientBed } from './beds.ts';
import { clientAvailable, jmapEmails, makeMessage, tmuxDriver } from './harness.ts';

const N = 8;

function muttrc(bed: ClientBed, dir: string): string {
  return `set imap_user = "${bed.user}"
set imap_pass = "${bed.password}"
set folder = "imaps://127.0.0.1:${bed.imapsPort}/"
set spoolfile = "+INBOX"
set certificate_file = "${dir}/certificates"
set ssl_verify_host = yes
set header_cache = ""
set message_cachedir = ""
set sort = date
set mark_old = no
set wait_key = no
set delete = yes
set move = no
set quit = yes
set confirmappend = no
set imap_check_subscribed = no
set mail_check = 60
set timeout = 60
`;
}

if (clientAvailable('neomutt', ['neomutt', 'tmux'])) for (const backend of backends('neomutt')) {
  clientTest(`neomutt in tmux over TLS, ${backend}: index subjects, pager body; flag, delete and move reach JMAP; quit`, backend, 60_000, async (bed) => {
    const dir = mkdtempSync(join(tmpdir(), 'neomutt-'));
    const { start, keys, pane, waitFor, waitForExit, close } = tmuxDriver(dir, 'mutt');
    const waitForJmap = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!(await ok())) {
        if (Date.now() > deadline) assert.fail(`JMAP: ${what} not seen within 10 s; screen:\n${await pane()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const email = async (mid: string) => (await jmapEmails(bed)).emails.find((e) => e.messageId === mid);
    try {
      await bed.seed('INBOX', Array.from({ length: N }, (_, i) => makeMessage('mutt', i, `Mutt subject ${i}`)));
      copyFileSync(bed.certPath, join(dir, 'certificates'));
      writeFileSync(join(dir, 'muttrc'), muttrc(bed, dir));
      await start(`neomutt -n -F ${dir}/muttrc`);

      // The index: every subject, in date order (sort = date; message i is dated i minutes after the first).
      const index = await waitFor('the INBOX index', (s) => /Msgs:8\b/.test(s));
      const rows = index.split('\n').filter((l) => /Mutt subject \d/.test(l));
      assert.deepEqual(rows.map((l) => /Mutt subject (\d)/.exec(l)![1]), ['0', '1', '2', '3', '4', '5', '6', '7']);
      assert.match(index, /NeoMutt: \+INBOX/);

      // Jump to the fourth message and open it: the pager shows its headers and body.
      await keys('4', 'Enter');
      await keys('Enter');
      const pager = await waitFor('the pager', (s) => s.includes('Body of mutt 3.'));
      assert.match(pager, /^Subject: Mutt subject 3$/m);
      assert.match(pager, /^Second line\.$/m);
      await keys('i'); // back to the index
      await waitFor('the index again', (s) => /Msgs:8\b/.test(s) && !s.includes('Body of mutt 3.'));

      // Flag the current message (the one just read), delete message 6, sync the mailbox ($).
      await keys('F');
      await waitFor('the flag mark', (s) => /Flag:1\b/.test(s));
      await keys('6', 'Enter');
      await keys('d');
      await waitFor('the delete mark', (s) => /Del:1\b/.test(s));
      // Save (move) message 8 to Archive: neomutt copies it and marks the original deleted.
      await keys('8', 'Enter');
      await keys('s');
      await waitFor('the save prompt', (s) => /Save to mailbox/.test(s));
      await keys('C-u', '=Archive', 'Enter');
      await waitFor('the second delete mark', (s) => /Del:2\b/.test(s));
      await keys('$');
      await waitFor('the synced index', (s) => /Msgs:6\b/.test(s));
      await waitForJmap('mutt.3 flagged and seen, mutt.5 gone, mutt.7 in Archive', async () => {
        const three = await email('<mutt.3@clients.test>');
        return !!three?.keywords.$flagged && !!three.keywords.$seen && (await email('<mutt.5@clients.test>')) === undefined;
      });
      const { emails, boxId } = await jmapEmails(bed);
      assert.deepEqual(emails.filter((e) => e.messageId === '<mutt.7@clients.test>').map((e) => Object.keys(e.mailboxIds)), [[boxId.get('Archive')!]], 'mutt.7 is only in Archive');
      assert.deepEqual(Object.keys((await email('<mutt.3@clients.test>'))!.keywords).sort(), ['$flagged', '$seen']);
      assert.deepEqual(Object.keys((await email('<mutt.4@clients.test>'))!.keywords), [], 'other messages untouched');
      assert.equal(emails.length, N - 1);

      // q quits (quit = yes): the tmux session ends with neomutt.
      await keys('q');
      await waitForExit();
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
