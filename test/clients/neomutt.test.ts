/**
 * neomutt, driven in tmux (send-keys / capture-pane) as a person would use it, against the gateway over implicit TLS
 * with the gateway's certificate trusted through `certificate_file` and the host name checked (`ssl_verify_host`):
 * the INBOX index lists the seeded subjects, the pager shows a message's body, and flagging (F), deleting (d) with
 * a save to another mailbox (s, a move) and a mailbox sync ($) reach the JMAP store; q quits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { clientAvailable, jmapEmails, makeMessage, run } from './harness.ts';

const N = 8;

function muttrc(bed: TestBed, dir: string): string {
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

if (clientAvailable('neomutt', ['neomutt', 'tmux'])) {
  test('neomutt in tmux over TLS: index subjects, pager body; flag, delete and move reach JMAP; quit', { timeout: 60_000 }, async () => {
    const bed = await startTestBed();
    const dir = mkdtempSync(join(tmpdir(), 'neomutt-'));
    const tmux = (...args: string[]) => run('tmux', ['-L', `gw-test-${process.pid}`, '-f', '/dev/null', ...args], { timeoutMs: 10_000, env: { HOME: dir } });
    const pane = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', 'mutt')).stdout;
    const waitFor = async (what: string, ok: (screen: string) => boolean, ms = 15_000): Promise<string> => {
      const deadline = Date.now() + ms;
      let screen = '';
      while (Date.now() < deadline) {
        screen = await pane();
        if (ok(screen)) return screen;
        await new Promise((r) => setTimeout(r, 150));
      }
      assert.fail(`neomutt: ${what} did not show within ${ms} ms; screen:\n${screen}`);
    };
    const waitForJmap = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!(await ok())) {
        if (Date.now() > deadline) assert.fail(`JMAP: ${what} not seen within 10 s; screen:\n${await pane()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const email = async (mid: string) => (await jmapEmails(bed)).emails.find((e) => e.messageId === mid);
    try {
      for (let i = 0; i < N; i++) bed.store.importMessage(bed.user, 'INBOX', makeMessage('mutt', i, `Mutt subject ${i}`));
      copyFileSync(bed.gateway.tls.certPath, join(dir, 'certificates'));
      writeFileSync(join(dir, 'muttrc'), muttrc(bed, dir));
      const started = await tmux('new-session', '-d', '-s', 'mutt', '-x', '160', '-y', '40', `neomutt -n -F ${dir}/muttrc`);
      assert.equal(started.code, 0, started.stderr);

      // The index: every subject, in date order (sort = date; message i is dated i minutes after the first).
      const index = await waitFor('the INBOX index', (s) => /Msgs:8\b/.test(s));
      const rows = index.split('\n').filter((l) => /Mutt subject \d/.test(l));
      assert.deepEqual(rows.map((l) => /Mutt subject (\d)/.exec(l)![1]), ['0', '1', '2', '3', '4', '5', '6', '7']);
      assert.match(index, /NeoMutt: \+INBOX/);

      // Jump to the fourth message and open it: the pager shows its headers and body.
      await tmux('send-keys', '-t', 'mutt', '4', 'Enter');
      await tmux('send-keys', '-t', 'mutt', 'Enter');
      const pager = await waitFor('the pager', (s) => s.includes('Body of mutt 3.'));
      assert.match(pager, /^Subject: Mutt subject 3$/m);
      assert.match(pager, /^Second line\.$/m);
      await tmux('send-keys', '-t', 'mutt', 'i'); // back to the index
      await waitFor('the index again', (s) => /Msgs:8\b/.test(s) && !s.includes('Body of mutt 3.'));

      // Flag the current message (the one just read), delete message 6, sync the mailbox ($).
      await tmux('send-keys', '-t', 'mutt', 'F');
      await waitFor('the flag mark', (s) => /Flag:1\b/.test(s));
      await tmux('send-keys', '-t', 'mutt', '6', 'Enter');
      await tmux('send-keys', '-t', 'mutt', 'd');
      await waitFor('the delete mark', (s) => /Del:1\b/.test(s));
      // Save (move) message 8 to Archive: neomutt copies it and marks the original deleted.
      await tmux('send-keys', '-t', 'mutt', '8', 'Enter');
      await tmux('send-keys', '-t', 'mutt', 's');
      await waitFor('the save prompt', (s) => /Save to mailbox/.test(s));
      await tmux('send-keys', '-t', 'mutt', 'C-u', '=Archive', 'Enter');
      await waitFor('the second delete mark', (s) => /Del:2\b/.test(s));
      await tmux('send-keys', '-t', 'mutt', '$');
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
      await tmux('send-keys', '-t', 'mutt', 'q');
      const deadline = Date.now() + 10_000;
      while ((await tmux('has-session', '-t', 'mutt')).code === 0) {
        if (Date.now() > deadline) assert.fail(`neomutt did not quit; screen:\n${await pane()}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      await tmux('kill-server').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      await bed.close();
    }
  });
}
